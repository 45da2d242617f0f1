import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Db } from '../sql.js';

/** What `latest` and `download` read of a device or group (OtaStore.served). */
export interface ServedRow {
  tokenHash: string;
  version: string | null;
  otaId: string | null;
}

export interface ServedCacheOptions {
  /** How often the listener proves it is up to date (a notification it sends to itself). */
  heartbeatMs?: number;
  /** Entries are used only while the newest proof is at most this old. */
  maxLagMs?: number;
  /** At most this many targets are remembered (the oldest go first). */
  capacity?: number;
}

const CHANNEL = 'ota_served';
/** Heartbeats without an answer before the listener is replaced (5 s at the default rate). */
const MAX_UNANSWERED_BEATS = 25;

/**
 * What each device's poll reads, remembered by a replica so that polls on PostgreSQL cost no
 * round trip (npm run bench, phase postgres: a round trip per poll held the event loop and
 * gave 0.4x SQLite's polls per second). Every row is forgotten when it changes, wherever:
 * - by this process, at once (the stores call forget() in the transaction that changes it);
 * - by another replica or an operator command: PostgreSQL's trigger (migration 2) sends
 *   NOTIFY ota_served '<kind>:<id>' when a device's or group's token, served record or row
 *   changes, which this listener receives after the commit.
 * Notifications arrive in commit order, so when a heartbeat this listener sent at time T comes
 * back, every change committed before T has been received. Entries are used only while the
 * newest heartbeat is at most `maxLagMs` old: a write answered 201 on any replica is seen by
 * this one within that (600 ms by default, inside the contract's 1 s), and a listener that
 * stalls or loses its connection makes polls read PostgreSQL again until it catches up.
 */
export class ServedCache {
  private readonly entries = new Map<string, ServedRow>();
  private readonly heartbeatMs: number;
  private readonly maxLagMs: number;
  private readonly capacity: number;
  private readonly me = randomBytes(6).toString('hex');
  private client: pg.Client | undefined;
  private connecting = false;
  private beats = 0;
  private readonly sentAt = new Map<number, number>();
  private confirmedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly url: string,
    { heartbeatMs = 200, maxLagMs = 600, capacity = 1_000_000 }: ServedCacheOptions = {},
  ) {
    this.heartbeatMs = heartbeatMs;
    this.maxLagMs = maxLagMs;
    this.capacity = capacity;
  }

  /** Connects the listener and starts the heartbeats; until the first one, nothing is cached. */
  start(): this {
    this.timer = setInterval(() => this.beat(), this.heartbeatMs);
    this.timer.unref();
    void this.connect();
    return this;
  }

  /** True while entries may be used (the listener is up to date). */
  get current(): boolean {
    return Date.now() - this.confirmedAt <= this.maxLagMs;
  }

  get(kind: string, id: string): ServedRow | undefined {
    return this.current ? this.entries.get(`${kind}:${id}`) : undefined;
  }

  set(kind: string, id: string, row: ServedRow): void {
    if (!this.current) return;
    if (this.entries.size >= this.capacity) {
      this.entries.delete(this.entries.keys().next().value!);
    }
    this.entries.set(`${kind}:${id}`, row);
  }

  forget(kind: string, id: string): void {
    this.entries.delete(`${kind}:${id}`);
  }

  get size(): number {
    return this.entries.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.entries.clear();
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.connecting || this.closed) return;
    this.connecting = true;
    const client = new pg.Client({
      connectionString: this.url,
      application_name: 'ota-registry (cache invalidation)',
      connectionTimeoutMillis: 10_000,
      keepAlive: true,
    });
    client.on('notification', (message) => this.received(message.payload ?? ''));
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      if (this.closed) await client.end();
      else this.client = client;
    } catch {
      this.lost(client);
      client.end().catch(() => undefined);
    } finally {
      this.connecting = false;
    }
  }

  private beat(): void {
    const client = this.client;
    if (!client) {
      void this.connect();
      return;
    }
    // Heartbeats that do not come back (a connection that hangs without an error): start over.
    if (this.sentAt.size >= MAX_UNANSWERED_BEATS) {
      this.lost(client);
      client.end().catch(() => undefined);
      return;
    }
    const n = ++this.beats;
    this.sentAt.set(n, Date.now());
    client
      .query('SELECT pg_notify($1, $2)', [CHANNEL, `beat:${this.me}:${n}`])
      .catch(() => this.lost(client));
  }

  private received(payload: string): void {
    if (payload.startsWith('beat:')) {
      const [, who, n] = payload.split(':');
      if (who !== this.me) return;
      const sent = this.sentAt.get(Number(n));
      if (sent === undefined) return;
      for (const earlier of this.sentAt.keys()) {
        if (earlier <= Number(n)) this.sentAt.delete(earlier);
      }
      this.confirmedAt = Math.max(this.confirmedAt, sent);
      return;
    }
    this.entries.delete(payload);
  }

  /** The listener is gone: forget everything, read PostgreSQL until a new one catches up. */
  private lost(client: pg.Client): void {
    if (this.client !== client && this.client !== undefined) return;
    this.client = undefined;
    this.confirmedAt = 0;
    this.sentAt.clear();
    this.entries.clear();
  }
}

/** The cache of a database's process (set by the server on PostgreSQL; none on SQLite). */
const caches = new WeakMap<Db, ServedCache>();

export function useServedCache(db: Db, cache: ServedCache): void {
  caches.set(db, cache);
}

export function servedCacheOf(db: Db): ServedCache | undefined {
  return caches.get(db);
}
