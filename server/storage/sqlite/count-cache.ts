import type { Db } from './database.js';

/**
 * Remembers expensive counts until the database changes. A dashboard pages through one search
 * (same owner, same search value): the filtered count is the same on every page, and at 100k
 * devices a search matching most of them costs ~20 ms to count. Any commit, by this connection
 * (total_changes()) or by another process on the same file (PRAGMA data_version), forgets all.
 */
export class CountCache {
  private readonly entries = new Map<string, number>();
  private stamp = '';
  private readonly changesStmt;

  constructor(
    private readonly db: Db,
    private readonly capacity = 256,
  ) {
    this.changesStmt = db.prepare<[], { n: number }>('SELECT total_changes() AS n');
  }

  /** The cached count for `key`, or `count()` remembered under it. */
  get(key: string, count: () => number): number {
    const stamp = `${this.db.pragma('data_version', { simple: true })}:${this.changesStmt.get()!.n}`;
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
