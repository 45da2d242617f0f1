/**
 * The database the stores and services speak to, whichever engine holds it: better-sqlite3's
 * own Database (the default, SQLite in the data directory) or PgDatabase (`--database
 * postgres://`, storage/postgres/). The shape is better-sqlite3's, so the SQLite path is
 * better-sqlite3 itself, called directly, as fast as it was; PostgreSQL answers the same calls
 * synchronously (storage/postgres/pg-database.ts says how, and what it costs).
 *
 * Statements are written once, in the SQL both engines understand: `?` and `@name`
 * parameters, `ON CONFLICT ... DO UPDATE`, ISO 8601 text timestamps. PgDatabase rewrites the
 * parameters and the few functions the dialects name differently (postgres/translate.ts); a
 * store that needs a different plan on one engine asks `engineOf(db)`.
 */
export interface Statement<Params extends unknown[] = unknown[], Row = unknown> {
  get(...params: Params): Row | undefined;
  all(...params: Params): Row[];
  run(...params: Params): { changes: number };
  /** Rows become their first column's value. */
  pluck(toggle?: boolean): this;
}

// The same function types as better-sqlite3's, so that its Database is a Db as it is.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyFunction = (...params: any[]) => unknown;
type ArgumentTypes<F> = F extends (...args: infer A) => unknown ? A : never;

/** A function that runs `fn` in a transaction: committed when it returns, rolled back on throw. */
export interface Transaction<F extends AnyFunction> {
  (...args: ArgumentTypes<F>): ReturnType<F>;
  /**
   * Takes the write lock first (SQLite: BEGIN IMMEDIATE; PostgreSQL: the registry's
   * transaction-level advisory lock), for read-then-write steps that must not interleave.
   */
  immediate(...args: ArgumentTypes<F>): ReturnType<F>;
}

export interface Db {
  /** SQLite: the database file; PostgreSQL: the URL without its password. */
  readonly name: string;
  readonly open: boolean;
  prepare<Params extends unknown[] | object = unknown[], Row = unknown>(
    source: string,
  ): Params extends unknown[] ? Statement<Params, Row> : Statement<[Params], Row>;
  transaction<F extends AnyFunction>(fn: F): Transaction<F>;
  exec(source: string): this;
  close(): this;
}

export type Engine = 'sqlite' | 'postgres';

/** Set by PgDatabase on itself; better-sqlite3's Database has no such property. */
export const ENGINE = Symbol('ota-registry engine');

export function engineOf(db: Db): Engine {
  return (db as { [ENGINE]?: Engine })[ENGINE] ?? 'sqlite';
}

/**
 * SQL that is true when `expr` contains the text of parameter `param` as it is (% and _ are
 * just characters): instr() in SQLite; in PostgreSQL a LIKE with the value's wildcards escaped,
 * which the pg_trgm indexes answer (postgres/migrations.ts: a search matching one device of
 * 100,000 took 1 ms instead of a 180 ms scan).
 */
export function containsText(db: Db, expr: string, param: string): string {
  return engineOf(db) === 'postgres'
    ? `${expr} LIKE '%' || replace(replace(replace(${param}, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%'`
    : `instr(${expr}, ${param}) > 0`;
}
