import { afterAll, describe, expect, test } from '@jest/globals';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import { freshDatabase, sharedPostgres, type FreshDatabase } from '../../support/postgres.js';

/**
 * The PostgreSQL the tests get (test/support/postgres.ts), as the registry's PostgreSQL backend
 * uses it: several connections at once, the citext and pg_trgm extensions, LISTEN/NOTIFY
 * between connections, and a connection that blocks the main thread while a worker thread
 * queries. Once on what sharedPostgres() chooses (the machine's server where it answers), once
 * on PGlite whatever the machine has.
 */
const targets: Array<[string, () => Promise<FreshDatabase>]> = [
  ['the harness default', () => freshDatabase()],
  ['PGlite (forced)', () => freshDatabase({ pglite: true })],
];

const dropped: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const drop of dropped) await drop();
});

async function fresh(open: () => Promise<FreshDatabase>): Promise<FreshDatabase> {
  const database = await open();
  dropped.push(database.drop);
  return database;
}

describe.each(targets)('%s', (_name, open) => {
  let database: FreshDatabase;

  test('a fresh database: connects, is empty, and takes citext and pg_trgm', async () => {
    database = await fresh(open);
    const client = new pg.Client(database.url);
    await client.connect();
    try {
      const tables = await client.query(
        "SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'",
      );
      expect(tables.rows[0].n).toBe(0);
      await client.query('CREATE EXTENSION IF NOT EXISTS citext');
      await client.query('CREATE EXTENSION IF NOT EXISTS pg_trgm');
      await client.query(
        'CREATE EXTENSION IF NOT EXISTS citext; CREATE EXTENSION IF NOT EXISTS pg_trgm;',
      );
      await client.query(
        'CREATE TABLE users (email citext PRIMARY KEY, name text NOT NULL);' +
          'CREATE INDEX users_name_trgm ON users USING gin (name gin_trgm_ops);',
      );
      const same = await client.query("SELECT 'A@x.io'::citext = 'a@x.io'::citext AS same");
      expect(same.rows[0].same).toBe(true);
      await client.query("INSERT INTO users VALUES ('A@x.io', 'Ada Lovelace')");
      await expect(client.query("INSERT INTO users VALUES ('a@X.IO', 'again')")).rejects.toThrow(
        /duplicate key/,
      );
      const found = await client.query(
        "SELECT email FROM users WHERE email = 'a@x.io' AND name ILIKE '%lovel%'",
      );
      expect(found.rows).toEqual([{ email: 'A@x.io' }]);
      const similar = await client.query(
        "SELECT similarity(name, 'Ada Lovelac') > 0.5 AS close FROM users",
      );
      expect(similar.rows[0].close).toBe(true);
    } finally {
      await client.end();
    }
  });

  test('another fresh database does not see the first one’s tables', async () => {
    const other = await fresh(open);
    expect(other.url).not.toBe(database.url);
    const client = new pg.Client(other.url);
    await client.connect();
    try {
      const tables = await client.query("SELECT to_regclass('public.users') AS users");
      expect(tables.rows[0].users).toBeNull();
    } finally {
      await client.end();
    }
  });

  test('a pool holds three connections at once, beside a plain client', async () => {
    const client = new pg.Client(database.url);
    await client.connect();
    const pool = new pg.Pool({ connectionString: database.url, max: 3 });
    try {
      const results = await Promise.all(
        [1, 2, 3, 4, 5, 6].map((i) =>
          pool.query<{ i: number; n: number }>(
            'SELECT $1::int AS i, count(*)::int AS n FROM users',
            [i],
          ),
        ),
      );
      expect(results.map((r) => r.rows[0])).toEqual([1, 2, 3, 4, 5, 6].map((i) => ({ i, n: 1 })));
      expect(pool.totalCount).toBe(3);
      // A transaction on the pool, committed, is seen by the plain client.
      const held = await pool.connect();
      try {
        await held.query('BEGIN');
        await held.query("INSERT INTO users VALUES ('b@x.io', 'Babbage')");
        await held.query('COMMIT');
      } finally {
        held.release();
      }
      const count = await client.query('SELECT count(*)::int AS n FROM users');
      expect(count.rows[0].n).toBe(2);
    } finally {
      await pool.end();
      await client.end();
    }
  });

  test('LISTEN on one connection hears NOTIFY from another', async () => {
    const listener = new pg.Client(database.url);
    const notifier = new pg.Client(database.url);
    const other = new pg.Client(database.url);
    await Promise.all([listener.connect(), notifier.connect(), other.connect()]);
    try {
      const heard: Array<{ channel: string; payload?: string }> = [];
      const strays: string[] = [];
      listener.on('notification', ({ channel, payload }) => heard.push({ channel, payload }));
      notifier.on('notification', ({ channel }) => strays.push(`notifier: ${channel}`));
      other.on('notification', ({ channel }) => strays.push(`other: ${channel}`));
      await listener.query('LISTEN firmware_changed');
      await other.query('LISTEN something_else');
      await notifier.query("NOTIFY firmware_changed, 'one'");
      await notifier.query("SELECT pg_notify('firmware_changed', 'two')");
      await notifier.query("NOTIFY something_unheard, 'x'");
      await waitUntil(() => heard.length >= 2);
      expect(heard).toEqual([
        { channel: 'firmware_changed', payload: 'one' },
        { channel: 'firmware_changed', payload: 'two' },
      ]);
      expect(strays).toEqual([]);
    } finally {
      await Promise.all([listener.end(), notifier.end(), other.end()]);
    }
  });

  test('a worker thread queries while the main thread blocks on its answer', async () => {
    // How a synchronous connection works: the main thread waits (Atomics.wait) for a worker
    // thread's query. A server on the main thread would never answer.
    const signal = new Int32Array(new SharedArrayBuffer(8));
    const worker = new Worker(
      `const { workerData } = require('node:worker_threads');
       const pg = require('pg');
       (async () => {
         const client = new pg.Client(workerData.url);
         await client.connect();
         const { rows } = await client.query('SELECT count(*)::int AS n FROM users');
         await client.end();
         Atomics.store(workerData.signal, 1, rows[0].n);
         Atomics.store(workerData.signal, 0, 1);
         Atomics.notify(workerData.signal, 0);
       })();`,
      { eval: true, workerData: { url: database.url, signal } },
    );
    try {
      const waited = Atomics.wait(signal, 0, 0, 20_000);
      expect(waited).toBe('ok');
      expect(signal[1]).toBe(2);
    } finally {
      await worker.terminate();
    }
  });
});

test('sharedPostgres says what it is', async () => {
  const server = await sharedPostgres();
  expect(server.kind).toMatch(server.pglite ? /^PGlite/ : /^postgresql \d+/);
});

async function waitUntil(check: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
