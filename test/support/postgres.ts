import { afterAll } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import { keepMetadataWith } from './registry.js';

/**
 * Real PostgreSQL for tests. The machine's PostgreSQL (127.0.0.1:5432, trust authentication
 * for the user `postgres`, as on the development and CI machines) when it answers; otherwise
 * PGlite (PostgreSQL compiled to WebAssembly) in a worker thread of this process, served over
 * the wire protocol by pglite-socket (test/support/pglite-worker.js), with the citext and
 * pg_trgm extensions loaded. Which one ran is printed once per test file.
 *
 * OTA_TEST_PGLITE=1 uses PGlite even when the machine's server answers (to try the fallback on
 * a machine that has PostgreSQL).
 *
 * What PGlite over pglite-socket does differently from a server (the tests that run on it have
 * to live with this):
 * - One backend, one session, shared by every connection: session settings (SET, search_path),
 *   temporary tables and prepared statement names are seen by all connections; the database
 *   name in the URL is ignored.
 * - Statements of different connections never run at the same time, and while one connection
 *   is in a transaction the others' statements wait until it ends. A client that waits on
 *   connection B before it ends a transaction on connection A waits forever.
 * - LISTEN / NOTIFY work between connections only through the relay in pglite-worker.js,
 *   which routes notifications by the LISTEN statements it saw. UNLISTEN on one connection
 *   stops the channel for every connection (the session is shared).
 * - Query cancellation (pg's CancelRequest, statement_timeout aside) is ignored.
 * - A fresh instance costs about 1.5 s (a clone of the first one; the first takes 3 to 4 s).
 */
export interface TestPostgres {
  /** A URL of the server (its `postgres` database for the machine's server). */
  url: string;
  /** What is running, for the output: "postgresql 15.20 on 127.0.0.1:5432 (the machine's)"... */
  kind: string;
  /** True for PGlite (one database, one session: see above). */
  pglite: boolean;
  /** Stops what the harness started (nothing for the machine's server). */
  close(): Promise<void>;
}

/** A database no other test uses. */
export interface FreshDatabase {
  url: string;
  /** Like TestPostgres.kind, naming the database or the PGlite instance's port. */
  kind: string;
  /** Drops the database (the machine's server) or stops the PGlite instance. */
  drop(): Promise<void>;
}

const SYSTEM_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

let shared: Promise<TestPostgres> | undefined;

/** The machine's PostgreSQL if it answers (and OTA_TEST_PGLITE is not set), else PGlite. */
export function sharedPostgres(): Promise<TestPostgres> {
  shared ??= (async () => {
    const forced = process.env.OTA_TEST_PGLITE === '1';
    const version = forced ? undefined : await serverVersion(SYSTEM_ADMIN_URL);
    if (version) {
      const kind = `postgresql ${version} on 127.0.0.1:5432 (the machine's)`;
      announce(kind);
      return { url: SYSTEM_ADMIN_URL, kind, pglite: false, close: async () => undefined };
    }
    const instance = await startPglite();
    announce(
      `PGlite (in-process, over pglite-socket): ${
        forced ? 'OTA_TEST_PGLITE=1' : 'no server answered on 127.0.0.1:5432'
      }`,
    );
    return {
      url: instance.url,
      kind: instance.kind,
      pglite: true,
      close: instance.drop,
    };
  })();
  return shared;
}

/**
 * A database of the test's own: `CREATE DATABASE ota_test_<hex>` on the machine's server
 * (dropped WITH (FORCE) by drop()), or a PGlite instance of its own on its own port (PGlite has
 * one database: CREATE DATABASE succeeds there, but every connection lands in `postgres`).
 * `pglite: true` gives a PGlite instance whatever the machine has (the harness's own test).
 */
export async function freshDatabase(options: { pglite?: boolean } = {}): Promise<FreshDatabase> {
  if (options.pglite) return startPglite();
  const server = await sharedPostgres();
  if (server.pglite) return startPglite();
  const name = `ota_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(server.url, `CREATE DATABASE ${name}`);
  const url = new URL(server.url);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    kind: `${server.kind}, database ${name}`,
    drop: () => adminQuery(server.url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

function announce(what: string): void {
  process.stderr.write(`[postgres] ${what}\n`);
}

/** The server's version ("15.20"), or undefined when nothing answers. */
async function serverVersion(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    return rows[0].server_version.split(' ')[0];
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

interface WorkerAnswer {
  id: number;
  port?: number;
  error?: string;
}

let host: { worker: Worker; pending: Map<number, (answer: WorkerAnswer) => void> } | undefined;
let nextRequest = 1;

/** Asks the PGlite worker thread (started on first use, one per test file) to do `op`. */
async function askWorker(op: 'start' | 'stop', port?: number): Promise<WorkerAnswer> {
  if (!host) {
    const worker = new Worker(new URL('./pglite-worker.js', import.meta.url));
    const pending = new Map<number, (answer: WorkerAnswer) => void>();
    worker.on('message', (answer: WorkerAnswer) => {
      pending.get(answer.id)?.(answer);
      pending.delete(answer.id);
    });
    worker.on('error', (error) => {
      for (const settle of pending.values()) settle({ id: 0, error: String(error.stack) });
      pending.clear();
      host = undefined;
    });
    // Does not keep the test process alive: Jest ends it when the tests are done.
    worker.unref();
    host = { worker, pending };
  }
  const { worker, pending } = host;
  const id = nextRequest++;
  const answer = await new Promise<WorkerAnswer>((resolve) => {
    pending.set(id, resolve);
    worker.postMessage({ id, op, port });
  });
  if (answer.error) throw new Error(`PGlite worker: ${answer.error}`);
  return answer;
}

async function startPglite(): Promise<FreshDatabase> {
  const { port } = await askWorker('start');
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    kind: `PGlite (in-process, over pglite-socket, port ${port})`,
    drop: async () => {
      await askWorker('stop', port);
    },
  };
}

/**
 * Runs the registries this test file starts with their metadata in PostgreSQL, each in a fresh
 * database of its own (dropped after the file's last test). Call it before the tests are defined.
 */
export function registriesOnPostgres(): void {
  const databases: FreshDatabase[] = [];
  keepMetadataWith(async () => {
    const database = await freshDatabase();
    databases.push(database);
    return { OTA_DATABASE_URL: database.url };
  });
  afterAll(async () => {
    for (const database of databases.splice(0)) await database.drop();
  });
}
