/** Whether the registry's connection to the broker is up (GET /healthz shows it). */
export type LinkState = 'connected' | 'disconnected';

/**
 * The registry's side of the broker, as the services see it: publish one message and learn
 * whether the broker took it, keep some filters subscribed, hear what arrives. The engine
 * (mqtt-client-link.ts) reconnects by itself; nothing here ever waits for a reconnect.
 */
export interface MqttLink {
  state(): LinkState;
  /**
   * QoS 1, not retained. Resolves once the broker acknowledged it (PUBACK); rejects with
   * MqttUnavailableError at once when disconnected, or when no PUBACK came in time.
   */
  publish(topic: string, payload: string): Promise<void>;
  /** Keeps these filters subscribed, again after every reconnect. */
  subscribe(filters: readonly string[]): void;
  unsubscribe(filters: readonly string[]): void;
  onMessage(handler: (topic: string, payload: Buffer) => void): void;
  close(): Promise<void>;
}

export class MqttUnavailableError extends Error {
  override name = 'MqttUnavailableError';
}
