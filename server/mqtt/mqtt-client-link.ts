import { randomBytes } from 'node:crypto';
import { connect, type MqttClient } from 'mqtt';
import { logEvent } from '../log.js';
import { MqttUnavailableError, type LinkState, type MqttLink } from './mqtt-link.js';

export interface MqttClientLinkOptions {
  /** `mqtt://` or `mqtts://` (TLS, verified against Node's CAs and NODE_EXTRA_CA_CERTS). */
  url: string;
  /** The URL without its password, for log lines. */
  displayUrl: string;
  /** How long a publish waits for the broker's PUBACK. */
  ackTimeoutMs?: number;
  /** Reconnect delays: first, doubling up to max, each with up to 25% jitter. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Where connection changes are told: the registry's log (server/log.ts) unless a test listens. */
  log?: (level: 'info' | 'warn', message: string) => void;
}

/**
 * The MQTT link over the `mqtt` package. Reconnects by itself with exponential backoff (mqtt.js
 * only knows a fixed period, so its own reconnect is off and this class schedules them), keeps
 * its filters subscribed across reconnects, and never queues a publish while disconnected: a
 * trigger is answered 503 at once rather than sent minutes later.
 */
export class MqttClientLink implements MqttLink {
  private readonly client: MqttClient;
  private readonly filters = new Set<string>();
  private readonly ackTimeoutMs: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly log: (level: 'info' | 'warn', message: string) => void;
  private failures = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private lastError = '';

  constructor(private readonly options: MqttClientLinkOptions) {
    this.ackTimeoutMs = options.ackTimeoutMs ?? 5000;
    this.minBackoffMs = options.minBackoffMs ?? 500;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.log = options.log ?? logEvent;
    const url = new URL(options.url);
    const tls = url.protocol === 'mqtts:';
    this.client = connect({
      protocol: tls ? 'mqtts' : 'mqtt',
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port ? Number(url.port) : tls ? 8883 : 1883,
      ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
      ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
      clientId: `ota-registry-${randomBytes(6).toString('hex')}`,
      clean: true,
      keepalive: 30,
      connectTimeout: 5000,
      reconnectPeriod: 0,
      resubscribe: false,
    });
    this.client.on('connect', () => {
      if (this.failures > 0 || this.lastError)
        this.log('info', `MQTT connected to ${options.displayUrl}`);
      this.failures = 0;
      this.lastError = '';
      if (this.filters.size > 0) this.client.subscribe([...this.filters], { qos: 1 });
    });
    this.client.on('error', (err) => {
      this.lastError = err.message;
    });
    this.client.on('close', () => this.scheduleReconnect());
  }

  state(): LinkState {
    return this.client.connected ? 'connected' : 'disconnected';
  }

  publish(topic: string, payload: string): Promise<void> {
    if (!this.client.connected) return Promise.reject(new MqttUnavailableError('not connected'));
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new MqttUnavailableError('no acknowledgement from the broker in time')),
        this.ackTimeoutMs,
      );
      this.client.publish(topic, payload, { qos: 1, retain: false }, (err) => {
        clearTimeout(timer);
        if (err) reject(new MqttUnavailableError(err.message));
        else resolve();
      });
    });
  }

  subscribe(filters: readonly string[]): void {
    const added = filters.filter((filter) => !this.filters.has(filter));
    for (const filter of added) this.filters.add(filter);
    if (added.length > 0 && this.client.connected) this.client.subscribe(added, { qos: 1 });
  }

  unsubscribe(filters: readonly string[]): void {
    const removed = filters.filter((filter) => this.filters.delete(filter));
    if (removed.length > 0 && this.client.connected) this.client.unsubscribe(removed);
  }

  onMessage(handler: (topic: string, payload: Buffer) => void): void {
    this.client.on('message', (topic, payload) => handler(topic, payload));
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    await this.client.endAsync(true);
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    const base = Math.min(this.maxBackoffMs, this.minBackoffMs * 2 ** this.failures);
    const delay = Math.round(base * (1 + Math.random() * 0.25));
    this.failures++;
    this.log(
      'warn',
      `MQTT disconnected from ${this.options.displayUrl}` +
        `${this.lastError ? ` (${this.lastError})` : ''}: reconnecting in ${(delay / 1000).toFixed(1)} s`,
    );
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.closed) this.client.reconnect();
    }, delay);
    this.reconnectTimer.unref();
  }
}
