/**
 * Whole-fleet counts (`ota_devices`, the fleet summary), asked off the request path: on SQLite
 * a thread with its own connection (sqlite/counting-thread.ts), on PostgreSQL a small
 * asynchronous pool (postgres/pg-counting.ts), so a count of 100k devices never holds the event
 * loop. The SQL is written once for both engines, as the stores' is (storage/sql.ts).
 */
export interface Counting {
  all<Row>(sql: string, params?: Record<string, unknown>): Promise<Row[]>;
  /** Ends the thread or the pool; a later question starts it again. */
  stop(): Promise<void>;
}
