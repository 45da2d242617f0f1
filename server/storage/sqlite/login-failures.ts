import type { Db } from './database.js';

/** Failed logins, kept while they count (services/login-throttle.ts). */
export class LoginFailureStore {
  private readonly insertStmt;
  private readonly pruneStmt;
  private readonly nthByEmailStmt;
  private readonly nthByAddressStmt;

  constructor(db: Db) {
    this.insertStmt = db.prepare(
      'INSERT INTO login_failures (email, address, at) VALUES (?, ?, ?)',
    );
    this.pruneStmt = db.prepare('DELETE FROM login_failures WHERE at < ?');
    // The n-th most recent failure since a time: once it exists, the limit is reached, and it
    // leaving the window is when the limit lifts.
    this.nthByEmailStmt = db.prepare<[string, string, number], { at: string }>(
      'SELECT at FROM login_failures WHERE email = ? AND at >= ? ORDER BY at DESC LIMIT 1 OFFSET ?',
    );
    this.nthByAddressStmt = db.prepare<[string, string, number], { at: string }>(
      'SELECT at FROM login_failures WHERE address = ? AND at >= ? ORDER BY at DESC LIMIT 1 OFFSET ?',
    );
  }

  /** Records a failure and forgets those older than `forgetBefore`. */
  add(email: string, address: string, at: string, forgetBefore: string): void {
    this.insertStmt.run(email, address, at);
    this.pruneStmt.run(forgetBefore);
  }

  /** The time of the `n`-th most recent failure for this email since `since`, if there are n. */
  nthByEmail(email: string, since: string, n: number): string | undefined {
    return this.nthByEmailStmt.get(email, since, n - 1)?.at;
  }

  nthByAddress(address: string, since: string, n: number): string | undefined {
    return this.nthByAddressStmt.get(address, since, n - 1)?.at;
  }
}
