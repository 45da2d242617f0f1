// @ts-check
import { performance } from 'node:perf_hooks';
import { URL } from 'node:url';
import pg from 'pg';

/** The machine's PostgreSQL as the tests use it (trust auth on loopback): where fresh databases are made. */
export const POSTGRES_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * A connection to PostgreSQL's maintenance database at `adminUrl`, to create and drop the
 * bench's databases; or the reason there is none (no server answers), for the phase's skip line.
 *
 * @param {string} adminUrl
 */
export async function openPostgres(adminUrl) {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3000 });
  // An unreachable server reports through 'error' as well as the rejected connect().
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    return { error: /** @type {Error} */ (err).message || String(err) };
  }
  const version = /** @type {{ server_version: string }} */ (
    (await client.query('SHOW server_version')).rows[0]
  ).server_version;
  /** @type {string[]} */
  const made = [];
  return {
    version,
    /**
     * The URL of a new, empty database, dropped by close(). The name carries the process id,
     * so that two benches on one server do not collide.
     */
    async fresh() {
      const name = `ota_bench_${process.pid}_${made.length}`;
      await client.query(`CREATE DATABASE ${name}`);
      made.push(name);
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      return url.href;
    },
    /** Drops the databases made (disconnecting whoever is still connected), then disconnects. */
    async close() {
      for (const name of made.splice(0))
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/**
 * What one statement costs through the registry's synchronous PostgreSQL bridge (PgDatabase:
 * a worker thread holds the connection; the caller's thread waits for the answer), the time
 * a replica's event loop is held per query: `SELECT 1`, prepared, `count` times after a warm-up.
 * Next to it, the same statement through an ordinary async `pg` client awaited one at a time
 * (the round trip itself, without the bridge).
 *
 * @param {string} url a database to connect to
 * @param {number} count
 */
export async function queryCost(url, count) {
  const { PgDatabase } = await import('../../build/server/storage/postgres/pg-database.js');
  const db = new PgDatabase(url);
  let bridgeUs;
  try {
    const statement = db.prepare('SELECT 1 AS one');
    for (let i = 0; i < Math.min(count, 1000); i++) statement.get();
    const started = performance.now();
    for (let i = 0; i < count; i++) statement.get();
    bridgeUs = ((performance.now() - started) * 1000) / count;
  } finally {
    db.close();
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let asyncUs;
  try {
    const query = { name: 'one', text: 'SELECT 1 AS one' };
    for (let i = 0; i < Math.min(count, 1000); i++) await client.query(query);
    const started = performance.now();
    for (let i = 0; i < count; i++) await client.query(query);
    asyncUs = ((performance.now() - started) * 1000) / count;
  } finally {
    await client.end();
  }
  return { bridgeUs, asyncUs, count };
}
