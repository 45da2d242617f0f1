/**
 * The storage layer's contract, run against every engine the registry speaks to: SQLite in a
 * data directory, PostgreSQL (the machine's server, or PGlite where none answers), and PGlite
 * too when the machine has a server (what `npm test` runs on a machine without one). The stores
 * are written once (storage/sql.ts); what they read and write must be the same on each.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { openDatabase } from '../../../server/storage/sqlite/database.js';
import { openPostgres, pgMigrations } from '../../../server/storage/postgres/migrations.js';
import { PgDatabase } from '../../../server/storage/postgres/pg-database.js';
import { bind, translate } from '../../../server/storage/postgres/translate.js';
import { engineOf, type Db } from '../../../server/storage/sql.js';
import { CountCache } from '../../../server/storage/sqlite/count-cache.js';
import { DeviceStore } from '../../../server/storage/sqlite/devices.js';
import { LoginFailureStore } from '../../../server/storage/sqlite/login-failures.js';
import { OtaStore, type Ota } from '../../../server/storage/sqlite/otas.js';
import { UserStore } from '../../../server/storage/sqlite/users.js';
import { newObjectId } from '../../../server/ids.js';
import { freshDatabase, sharedPostgres, type FreshDatabase } from '../../support/postgres.js';
import { tempDataDir } from '../../support/registry.js';

const server = await sharedPostgres();
const dropped: FreshDatabase[] = [];
const opened: Db[] = [];
afterAll(async () => {
  for (const db of opened) db.close();
  for (const database of dropped) await database.drop();
});

async function postgres(options: { pglite?: boolean } = {}): Promise<Db> {
  const database = await freshDatabase(options);
  dropped.push(database);
  return openPostgres(database.url);
}

const engines: Array<[string, () => Promise<Db>]> = [
  ['sqlite', async () => openDatabase(tempDataDir())],
  [`postgres (${server.kind})`, () => postgres()],
];
// On a machine with a server, PGlite runs too: it is what a machine without one tests on.
if (!server.pglite) engines.push(['postgres (PGlite)', () => postgres({ pglite: true })]);

const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms).toISOString();

describe.each(engines)('%s', (_name, open) => {
  let db: Db;
  let users: UserStore;
  let owner: string;

  test('opens with the schema up to date; opening again changes nothing', async () => {
    db = await open();
    opened.push(db);
    users = new UserStore(db);
    owner = newObjectId();
    users.insert({
      id: owner,
      email: 'Owner@Example.com',
      role: 'user',
      passwordHash: null,
      createdAt: at(0),
      mqttUser: null,
    });
    if (db instanceof PgDatabase) {
      const again = openPostgres(db.name);
      // The name has no password; the machine's server and PGlite trust the local user.
      opened.push(again);
      expect(again.query('SELECT version FROM ota_schema ORDER BY version').rows).toEqual(
        pgMigrations.map((_, i) => ({ version: i + 1 })),
      );
      expect(new UserStore(again).count()).toBe(1);
    }
  });

  test('statements: positional and named parameters, get, all, run, pluck; numbers are numbers', () => {
    const insert = db.prepare<[string, string, string]>(
      `INSERT INTO login_failures (email, address, at) VALUES (?, ?, ?) -- ? in a comment
       ON CONFLICT DO NOTHING`,
    );
    expect(insert.run('a@x.io', '10.0.0.1', at(1)).changes).toBe(1);
    expect(insert.run('a@x.io', "it's ?", at(2)).changes).toBe(1);
    const named = db.prepare<{ email: string; since: string }, { n: number; last: string }>(
      `SELECT count(*) AS n, max(at) AS last FROM login_failures
       WHERE email = @email AND at >= @since AND address <> '@not_a_parameter'`,
    );
    expect(named.get({ email: 'A@X.IO', since: at(0) })).toEqual({ n: 2, last: at(2) });
    expect(
      db.prepare<[], string>('SELECT address FROM login_failures ORDER BY at').pluck().all(),
    ).toEqual(['10.0.0.1', "it's ?"]);
    expect(db.prepare('SELECT * FROM users WHERE id = ?').get('nobody')).toBeUndefined();
    // Sizes and millisecond times pass 2^31; they come back as numbers.
    const big = 2 ** 40 + 7;
    expect(
      db.prepare<[number], { v: number }>('SELECT CAST(? AS BIGINT) + 1 AS v').get(big),
    ).toEqual({
      v: big + 1,
    });
  });

  test('transactions: committed on return, rolled back on throw, nested ones roll back alone', () => {
    const count = db.prepare<[], { n: number }>(
      "SELECT count(*) AS n FROM login_failures WHERE email = 't@x.io'",
    );
    const add = db.prepare<[string]>(
      "INSERT INTO login_failures (email, address, at) VALUES ('t@x.io', 'a', ?)",
    );
    db.transaction(() => add.run(at(10)))();
    expect(count.get()!.n).toBe(1);
    expect(() =>
      db
        .transaction(() => {
          add.run(at(11));
          throw new Error('changed my mind');
        })
        .immediate(),
    ).toThrow('changed my mind');
    expect(count.get()!.n).toBe(1);
    db.transaction(() => {
      add.run(at(12));
      try {
        db.transaction(() => {
          add.run(at(13));
          throw new Error('inner');
        })();
      } catch {
        // The outer transaction goes on without the inner one's row.
      }
    })();
    expect(count.get()!.n).toBe(2);
  });

  test('a failed statement throws its message and leaves the connection usable', () => {
    expect(() => db.prepare('SELECT * FROM no_such_table').all()).toThrow(/no_such_table/);
    expect(() =>
      db.transaction(() => {
        db.prepare('INSERT INTO no_such_table VALUES (1)').run();
      })(),
    ).toThrow(/no_such_table/);
    expect(users.count()).toBe(1);
  });

  test('emails compare without letter case; a second account for one address is refused', () => {
    expect(users.byEmail('owner@example.COM')?.id).toBe(owner);
    expect(() =>
      users.insert({
        id: newObjectId(),
        email: 'OWNER@example.com',
        role: 'user',
        passwordHash: null,
        createdAt: at(3),
        mqttUser: null,
      }),
    ).toThrow(/unique|duplicate/i);
  });

  test('device lists search names and ids literally and without case, on every plan', () => {
    const devices = new DeviceStore(db);
    const names = ['Boiler 100%', 'boiler_2', 'Kitchen', 'BOILER room', 'cellar'];
    for (const [i, name] of names.entries()) {
      devices.insert({
        id: newObjectId(),
        owner,
        name,
        tokenHash: 'h',
        createdAt: at(100 + i),
        chip: null,
      });
    }
    const search = (text: string | null, orderDir: 'asc' | 'desc' = 'asc') =>
      devices.list(owner, { search: text, offset: 0, limit: 10, orderDir }).rows.map((d) => d.name);
    expect(search(null)).toEqual(names);
    expect(search(null, 'desc')).toEqual([...names].reverse());
    expect(search('boiler')).toEqual(['Boiler 100%', 'boiler_2', 'BOILER room']);
    expect(search('0%')).toEqual(['Boiler 100%']);
    expect(search('r_')).toEqual(['boiler_2']);
    expect(search('%')).toEqual(['Boiler 100%']);
    expect(search('zzz')).toEqual([]);
    const page = devices.list(owner, { search: 'boiler', offset: 1, limit: 1, orderDir: 'asc' });
    expect(page).toMatchObject({ total: 5, filtered: 3 });
    expect(page.rows.map((d) => d.name)).toEqual(['boiler_2']);
  });

  test('history: newest first, and a tie within one millisecond goes to the row written last', () => {
    const otas = new OtaStore(db);
    const device = newObjectId();
    const ota = (version: string, lastUpdated: string): Ota => ({
      id: newObjectId(),
      targetKind: 'device',
      targetId: device,
      owner,
      version,
      path: `ota/device/${device}/${version}/firmware.bin`,
      size: 8 * 1024 * 1024,
      sha256: 'a'.repeat(64),
      md5: 'b'.repeat(32),
      chip: 'esp32',
      otaClient: ['iotaap-os'],
      createdAt: lastUpdated,
      lastUpdated,
    });
    otas.insert(ota('1.0.0', at(200)));
    otas.insert(ota('1.1.0', at(300)));
    otas.insert(ota('1.2.0', at(300)));
    expect(otas.history('device', device).map((o) => o.version)).toEqual([
      '1.2.0',
      '1.1.0',
      '1.0.0',
    ]);
    expect(otas.byVersion('device', device, '1.1.0')).toMatchObject({
      size: 8 * 1024 * 1024,
      otaClient: ['iotaap-os'],
    });
    expect(otas.hasBytes('a'.repeat(64))).toBe(true);
    expect(otas.hasBytes('c'.repeat(64))).toBe(false);
  });

  test('login failures: the n-th newest within the window', () => {
    const failures = new LoginFailureStore(db);
    for (let i = 0; i < 3; i++) failures.add('Slow@x.io', '10.1.1.1', at(1000 + i), at(0));
    expect(failures.nthByEmail('slow@X.io', at(0), 1)).toBe(at(1002));
    expect(failures.nthByEmail('slow@x.io', at(0), 3)).toBe(at(1000));
    expect(failures.nthByEmail('slow@x.io', at(1001), 3)).toBeUndefined();
    expect(failures.nthByAddress('10.1.1.1', at(0), 2)).toBe(at(1001));
  });

  test('a count is forgotten when this process writes', async () => {
    // PostgreSQL forgets every count at each new second too (other replicas' writes): start
    // early in a second, so that the two looks below fall in the same one.
    if (engineOf(db) === 'postgres') {
      await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000)));
    }
    const cache = new CountCache(db);
    const count = () => (db.prepare('SELECT count(*) AS n FROM devices').get() as { n: number }).n;
    const before = cache.get('devices', count);
    expect(cache.get('devices', () => -1)).toBe(before);
    new DeviceStore(db).insert({
      id: newObjectId(),
      owner,
      name: 'one more',
      tokenHash: 'h',
      createdAt: at(5000),
      chip: null,
    });
    expect(cache.get('devices', count)).toBe(before + 1);
  });

  test('engineOf names the engine', () => {
    expect(engineOf(db)).toBe(db instanceof PgDatabase ? 'postgres' : 'sqlite');
  });
});

describe('PostgreSQL connection', () => {
  test('a connection the server ends is replaced at the next query', async () => {
    const db = (await postgres()) as PgDatabase;
    opened.push(db);
    const pid = db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid').rows[0].pid;
    const other = (await postgres()) as PgDatabase;
    opened.push(other);
    // From another session: what an operator's pg_terminate_backend or a server restart does.
    if (!server.pglite) {
      const admin = openPostgres(db.name);
      opened.push(admin);
      admin.query('SELECT pg_terminate_backend($1)', [pid]);
      // The first query after the loss may fail; the one after it runs on a new connection.
      try {
        db.query('SELECT 1');
      } catch {
        // The lost connection answered this one.
      }
      const fresh = db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid').rows[0].pid;
      expect(fresh).not.toBe(pid);
    }
    expect(new UserStore(db).count()).toBe(0);
  });

  test('a server that does not answer is a thrown error, not a hang', () => {
    const db = new PgDatabase('postgres://postgres@127.0.0.1:1/nowhere');
    expect(() => db.query('SELECT 1')).toThrow(/ECONNREFUSED|connect/);
    db.close();
  });
});

describe('translate', () => {
  test('parameters become $n; quoted text, comments and casts stay', () => {
    expect(translate('SELECT \'?\', "a?", x::text FROM t WHERE a = ? -- ?\n AND b = ?')).toEqual({
      text: 'SELECT \'?\', "a?", x::text FROM t WHERE a = $1 -- ?\n AND b = $2',
      names: null,
      count: 2,
    });
    const named = translate("SELECT @a, :b, $c, @a, 'it''s @d' WHERE @e IS NULL");
    expect(named.text).toBe("SELECT $1, $2, $3, $1, 'it''s @d' WHERE $4::text IS NULL");
    expect(bind(named, [{ a: 1, b: 'x', c: null, e: undefined }])).toEqual([1, 'x', null, null]);
    expect(() => bind(named, [{ a: 1 }])).toThrow('Missing named parameter "b"');
    expect(() => bind(translate('SELECT ?, ?'), [1])).toThrow(/Too few/);
  });

  test('instr becomes strpos; aliases with capitals keep their case', () => {
    expect(translate('SELECT token_hash AS tokenHash, instr(lower(n), ?) AS at FROM t').text).toBe(
      'SELECT token_hash AS "tokenHash", strpos(lower(n), $1) AS at FROM t',
    );
  });
});
