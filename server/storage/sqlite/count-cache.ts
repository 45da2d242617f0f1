import { PgDatabase } from '../postgres/pg-database.js';
import type { Db, SqliteDb } from './database.js';

/**
 * Remembers expensive counts until the database changes. A dashboard pages through one search
 * (same owner, same search value): the filtered count is the same on every page, and at 100k
 * devices a search matching most of them costs ~20 ms to count. Any commit, by this connection
 * (total_changes()) or by another process on the same file (PRAGMA data_version), forgets all.
 * On PostgreSQL, other replicas' commits cannot be seen that cheaply: a write by this process
 * forgets all at once, and every count is forgotten within a second (so a replica's list count
 * trails another replica's write by at most that).
 */
export class CountCache {
  private readonly entries = new Map<string, number>();
  private stamp = '';
  private readonly currentStamp: () => string;

  constructor(
    db: Db,
    private readonly capacity = 256,
  ) {
    if (db instanceof PgDatabase) {
      this.currentStamp = () => `${db.writes}:${Math.floor(Date.now() / 1000)}`;
    } else {
      const sqlite = db as SqliteDb;
      const changes = sqlite.prepare<[], { n: number }>('SELECT total_changes() AS n');
      this.currentStamp = () =>
        `${sqlite.pragma('data_version', { simple: true })}:${changes.get()!.n}`;
    }
  }

  /** The cached count for `key`, or `count()` remembered under it. */
  get(key: string, count: () => number): number {
    const stamp = this.currentStamp();
    if (stamp !== this.stamp) {
      this.entries.clear();
      this.stamp = stamp;
    }
    let n = this.entries.get(key);
    if (n === undefined) {
      n = count();
      if (this.entries.size >= this.capacity)
        this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(key, n);
    }
    return n;
  }
}
