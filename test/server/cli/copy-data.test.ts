import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { Messages } from '../../../server/errors.js';
import type { CopySummary } from '../../../server/storage/copy-data.js';
import { migrations } from '../../../server/storage/sqlite/migrations.js';
import { build } from '../../support/builds.js';
import { esp32UpdaterHeaders } from '../../support/fleet.js';
import { md5 } from '../../support/hashes.js';
import { freshDatabase, type FreshDatabase } from '../../support/postgres.js';
import {
  cliJson,
  killAllRegistries,
  runCli,
  spawnRegistry,
  type RegistryProcess,
} from '../../support/registry-process.js';
import { download, request, tempDataDir, upload } from '../../support/registry.js';
import { startS3, type TestBucket } from '../../support/s3.js';

type Kind = 'device' | 'group';
interface Target {
  kind: Kind;
  id: string;
  token: string;
}
type Summary = CopySummary & { to: string };

/**
 * `ota-registry copy-data`, run as an operator moving a SQLite registry would: a registry
 * filled through its API and CLI, stopped, copied into PostgreSQL (+ S3, or files), and a
 * registry started on the copy answers as the old one did.
 */
describe('ota-registry copy-data', () => {
  const work = tempDataDir();
  const sourceDir = path.join(work, 'source');
  const password = 'correct horse battery';
  const alice = 'alice@example.com';
  let aliceKey: string;
  let bobKey: string;
  /** Every device and group, and what the old registry answered about each. */
  const targets: Target[] = [];
  const answers = new Map<string, unknown>();
  const databases: FreshDatabase[] = [];
  let s3: TestBucket;

  const images = {
    d100: build('1.0.0'),
    d110: build('1.1.0'),
    d120: build('1.2.0'),
    g200: build('2.0.0'),
    g210: build('2.1.0'),
  };

  beforeAll(async () => {
    s3 = await startS3();
    aliceKey = (
      await cliJson<{ apiKey: string }>(
        ['user', 'add', alice, '--password-stdin', '--data', sourceDir],
        `${password}\n`,
      )
    ).apiKey;
    bobKey = (
      await cliJson<{ apiKey: string }>(['user', 'add', 'bob@example.com', '--data', sourceDir])
    ).apiKey;
    const source = await spawnRegistry(sourceDir, ['--no-request-log']);
    const url = source.url;
    const post = async (apiKey: string, route: string, json: unknown) => {
      const res = await request(`${url}${route}`, { method: 'POST', apiKey, json });
      if (res.status !== 201) throw new Error(`POST ${route}: ${res.status}`);
      return res.body as { _id: string; token: string };
    };
    const deploy = async (
      apiKey: string,
      target: Target,
      version: string,
      bytes: Buffer,
      extra: Record<string, string> = {},
    ) => {
      const res = await upload(
        `${url}/v1/ota/${target.kind}`,
        apiKey,
        { [target.kind]: target.id, token: target.token, version, ...extra },
        [{ bytes }],
      );
      if (res.status !== 201) throw new Error(`upload ${version}: ${JSON.stringify(res.body)}`);
    };
    const device = async (apiKey: string, name: string): Promise<Target> => {
      const { _id, token } = await post(apiKey, '/v1/devices', { name });
      return { kind: 'device', id: _id, token };
    };

    const d1 = await device(aliceKey, 'kitchen');
    const d2 = await device(aliceKey, 'garden-1');
    const d3 = await device(aliceKey, 'garden-2');
    const d4 = await device(bobKey, "bob's");
    const created = await post(aliceKey, '/v1/groups', { name: 'garden' });
    const group: Target = { kind: 'group', id: created._id, token: created.token };
    for (const member of [d2, d3]) {
      const res = await request(`${url}/v1/devices/${member.id}`, {
        method: 'PUT',
        apiKey: aliceKey,
        json: { group: group.id },
      });
      if (res.status !== 200) throw new Error(`join: ${res.status}`);
    }
    await deploy(aliceKey, d1, '1.0.0', images.d100);
    await deploy(aliceKey, d1, '1.1.0', images.d110);
    await deploy(aliceKey, d1, '1.2.0', images.d120);
    // The same bytes for another owner's device: one object in S3 for both records.
    await deploy(bobKey, d4, '1.2.0', images.d120);
    await deploy(aliceKey, group, '2.0.0', images.g200);
    await deploy(aliceKey, group, '2.1.0', images.g210, { rollout: '50,100' });
    targets.push(d1, d2, d3, d4, group);

    // Check-ins: d1 runs 1.1.0 and asks for an update; a group member asks with its MAC.
    await download(`${url}/v1/ota/device/download/${d1.id}${d1.token}`, {
      ...esp32UpdaterHeaders({ md5: md5(images.d110), version: '1.1.0' }),
    });
    await download(`${url}/v1/ota/group/download/${group.id}${group.token}`, {
      ...esp32UpdaterHeaders({ md5: md5(images.g200), version: '2.0.0', mac: '24:0A:C4:00:00:02' }),
    });
    await record(url, (key, value) => answers.set(key, value));
    // What a copy starts from: the check-ins of the downloads `record` made too.
    await views(url, (key, value) => answers.set(key, value));
    await stop(source);
  }, 60_000);

  afterAll(async () => {
    killAllRegistries();
    await s3?.close();
    for (const database of databases) await database.drop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  /**
   * What a registry answers about every device and group, each under a name: device views
   * (check-ins) first, before the downloads below make check-ins of their own.
   */
  async function record(url: string, put: (key: string, value: unknown) => void): Promise<void> {
    await views(url, put);
    for (const target of targets) {
      const apiKey = keyOf(target);
      if (target.kind === 'group') {
        put(
          `group ${target.id}`,
          (await request(`${url}/v1/groups/${target.id}`, { apiKey })).body,
        );
        put(
          `rollout ${target.id}`,
          (await request(`${url}/v1/ota/group/${target.id}/rollout`, { apiKey })).body,
        );
      }
      const latest = await request(`${url}/v1/ota/${target.kind}/latest/${target.id}`);
      put(`latest ${target.id}`, [latest.status, latest.body]);
      const got = await download(
        `${url}/v1/ota/${target.kind}/download/${target.id}${target.token}`,
      );
      put(`download ${target.id}`, {
        status: got.status,
        length: got.headers.get('content-length'),
        md5: got.headers.get('x-md5'),
        etag: got.headers.get('etag'),
        bytes: got.bytes.toString('base64'),
      });
      const history = await request(`${url}/v1/ota/${target.kind}/${target.id}/history`, {
        apiKey,
      });
      put(`history ${target.id}`, history.body);
    }
  }

  /** The devices' views (their check-ins), and a search that lists some. */
  async function views(url: string, put: (key: string, value: unknown) => void): Promise<void> {
    // Search (SQLite: the FTS index the copy's inserts fill through triggers; PostgreSQL: scans).
    const search = await request(`${url}/v1/devices?search_value=GARDEN-`, { apiKey: aliceKey });
    put('search', search.body);
    for (const target of targets) {
      if (target.kind !== 'device') continue;
      const view = await request(`${url}/v1/devices/${target.id}`, { apiKey: keyOf(target) });
      put(`view ${target.id}`, view.body);
    }
  }

  const keyOf = (target: Target) => (target === targets[3] ? bobKey : aliceKey);

  async function stop(registry: RegistryProcess): Promise<void> {
    registry.child.kill('SIGTERM');
    expect((await registry.exited).code).toBe(0);
  }

  const copyData = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    runCli(['copy-data', '--from', sourceDir, ...args], undefined, env);

  test.each([
    ['PostgreSQL and S3', 's3'],
    ['PostgreSQL and files in another data directory', 'files'],
    ['PostgreSQL beside the same data directory', 'same'],
    ['SQLite and files in another data directory', 'sqlite'],
  ] as const)(
    'into %s: the new registry answers as the old one; a second run copies nothing',
    async (_name, storage) => {
      const dataDir = storage === 'same' ? sourceDir : path.join(work, `target-${storage}`);
      const env = storage === 's3' ? s3.env(`moved-${Date.now()}`) : {};
      const engine: string[] = [];
      if (storage !== 'sqlite') {
        const database = await freshDatabase();
        databases.push(database);
        engine.push('--database', database.url);
      }
      const args = ['--data', dataDir, ...engine];

      const first = await copyData([...args, '--json'], env);
      // (The AWS SDK may warn about the Node version on stderr: nothing of ours is there.)
      expect(first.stderr).not.toContain('ota-registry');
      expect(first.code).toBe(0);
      const summary = JSON.parse(first.stdout) as Summary;
      const totalBytes = [
        images.d100,
        images.d110,
        images.d120,
        images.d120,
        images.g200,
        images.g210,
      ].reduce((sum, bytes) => sum + bytes.length, 0);
      expect(summary).toMatchObject({
        from: sourceDir,
        users: { copied: 2, present: 0 },
        groups: { copied: 1, present: 0 },
        devices: { copied: 4, present: 0 },
        firmware: {
          copied: 6,
          present: 0,
          bytes: storage === 'same' ? 0 : totalBytes,
          damaged: [],
        },
        rollouts: { copied: 1, present: 0 },
        rolloutDevices: { copied: 1, present: 0 },
      });
      // Two API keys (the CLI's); no sessions yet.
      expect(summary.tokens).toEqual({ copied: 2, present: 0 });

      const second = await copyData([...args, '--json'], env);
      expect(second.code).toBe(0);
      const again = JSON.parse(second.stdout) as Summary;
      for (const table of ['users', 'tokens', 'groups', 'devices', 'rollouts'] as const) {
        expect(again[table]).toEqual({ copied: 0, present: summary[table].copied });
      }
      expect(again.firmware).toEqual({ copied: 0, present: 6, bytes: 0, damaged: [] });

      // The human lines say the same.
      const third = await copyData(args, env);
      expect(third.code).toBe(0);
      expect(third.stdout).toContain('firmware versions: 0 copied, 6 already there');

      const target = await spawnRegistry(dataDir, [...engine, '--no-request-log'], env);
      const moved = new Map<string, unknown>();
      await record(target.url, (key, value) => moved.set(key, value));
      expect(Object.fromEntries(moved)).toEqual(Object.fromEntries(answers));
      expect(moved.get('search')).toMatchObject({ recordsFiltered: 2 });
      // The check-ins came along.
      const d1 = targets[0];
      expect(moved.get(`view ${d1.id}`)).toMatchObject({
        running_version: '1.1.0',
        last_contact: expect.any(String),
      });
      expect(moved.get(`history ${d1.id}`)).toMatchObject({
        history: [{ version: '1.2.0' }, { version: '1.1.0' }, { version: '1.0.0' }],
      });

      const login = await request(`${target.url}/v1/auth/login`, {
        method: 'POST',
        json: { email: alice, password },
      });
      expect(login.status).toBe(200);
      const account = await request(`${target.url}/v1/account`, { apiKey: aliceKey });
      expect(account).toMatchObject({ status: 200, body: { email: alice } });
      await stop(target);

      if (storage === 's3') {
        // Content-addressed: five distinct images, one object each.
        const objects = s3.requests.filter((r) => r.startsWith('PUT ') || r.startsWith('POST '));
        expect(new Set(objects.map((r) => r.split('?')[0])).size).toBe(5);
      }
    },
    120_000,
  );

  test('a missing or damaged file: that version is not copied, the rest is, exit 1; again after the files are back: copied', async () => {
    const damagedDir = path.join(work, 'damaged');
    fs.cpSync(sourceDir, damagedDir, { recursive: true });
    const source = new Database(path.join(damagedDir, 'registry.db'), { readonly: true });
    // d1's served version, and a version its group kept.
    const rows = source
      .prepare(
        "SELECT target_id, version, path FROM otas WHERE (target_id = ? AND version = '1.2.0') OR version = '2.0.0' ORDER BY version",
      )
      .all(targets[0].id) as { target_id: string; version: string; path: string }[];
    source.close();
    expect(rows).toHaveLength(2);
    const [missing, damaged] = rows.map((row) => path.join(damagedDir, row.path));
    const saved = [fs.readFileSync(missing), fs.readFileSync(damaged)];
    fs.rmSync(missing);
    const flipped = Buffer.from(saved[1]);
    flipped[100] ^= 1;
    fs.writeFileSync(damaged, flipped);

    const database = await freshDatabase();
    databases.push(database);
    const args = [
      'copy-data',
      '--from',
      damagedDir,
      '--data',
      path.join(work, 'target-damaged'),
      '--database',
      database.url,
    ];
    const first = await runCli([...args, '--json']);
    expect(first.code).toBe(1);
    const summary = JSON.parse(first.stdout) as Summary;
    expect(summary.firmware).toMatchObject({ copied: 4, present: 0 });
    expect(summary.firmware.damaged).toEqual(
      expect.arrayContaining([
        {
          kind: 'device',
          target: targets[0].id,
          version: '1.2.0',
          problem: 'missing',
        },
        {
          kind: 'group',
          target: targets[4].id,
          version: '2.0.0',
          problem: 'sha256 mismatch',
        },
      ]),
    );
    expect(summary.devices).toEqual({ copied: 4, present: 0 });
    const human = await runCli(args);
    expect(human.code).toBe(1);
    expect(human.stdout).toContain('2 firmware version(s) NOT copied');

    // As docs/storage.md says: `latest` still names the version left out, `download` has none.
    const target = await spawnRegistry(path.join(work, 'target-damaged'), [
      '--database',
      database.url,
      '--no-request-log',
    ]);
    const d1 = targets[0];
    expect(await request(`${target.url}/v1/ota/device/latest/${d1.id}`)).toMatchObject({
      status: 200,
      body: { ver: '1.2.0' },
    });
    expect(await request(`${target.url}/v1/ota/device/download/${d1.id}${d1.token}`)).toMatchObject(
      { status: 404, body: { message: Messages.noFirmwareAvailable } },
    );
    await stop(target);

    fs.writeFileSync(missing, saved[0]);
    fs.writeFileSync(damaged, saved[1]);
    const repaired = await runCli([...args, '--json']);
    expect(repaired.code).toBe(0);
    expect((JSON.parse(repaired.stdout) as Summary).firmware).toMatchObject({
      copied: 2,
      present: 4,
      damaged: [],
    });
  }, 60_000);

  test('bad arguments: one line naming the problem, exit 2, nothing written', async () => {
    const empty = path.join(work, 'empty');
    fs.mkdirSync(empty);
    const garbage = path.join(work, 'garbage');
    fs.mkdirSync(garbage);
    fs.writeFileSync(path.join(garbage, 'registry.db'), 'not a database, not at all'.repeat(100));
    const old = path.join(work, 'old');
    fs.mkdirSync(old);
    fs.copyFileSync(path.join(sourceDir, 'registry.db'), path.join(old, 'registry.db'));
    const db = new Database(path.join(old, 'registry.db'));
    db.pragma(`user_version = ${migrations.length - 1}`);
    db.close();
    const before = fs.readFileSync(path.join(old, 'registry.db'));
    const target = ['--data', path.join(work, 'never')];

    const cases: [string[], string, NodeJS.ProcessEnv?][] = [
      [target, Messages.copyFromMissing],
      [['--from', empty, ...target], Messages.copyNoRegistry(empty)],
      [
        ['--from', old, ...target],
        Messages.copySourceSchema(old, migrations.length - 1, migrations.length),
      ],
      [['--from', sourceDir, '--data', sourceDir], Messages.copySameTarget(sourceDir)],
      [['--from', sourceDir], Messages.copySameTarget(sourceDir), { OTA_DATA_DIR: sourceDir }],
    ];
    for (const [args, message, env] of cases) {
      const result = await runCli(['copy-data', ...args], undefined, env);
      expect(result).toEqual({ code: 2, stdout: '', stderr: `ota-registry: ${message}\n` });
    }
    const notSqlite = await runCli(['copy-data', '--from', garbage, ...target]);
    expect(notSqlite.code).toBe(2);
    expect(notSqlite.stderr).toMatch(
      /^ota-registry: --from .*garbage: registry.db cannot be read as a registry \(.+\)\n$/,
    );
    // The old registry was not upgraded nor otherwise written.
    expect(fs.readFileSync(path.join(old, 'registry.db')).equals(before)).toBe(true);
    expect(fs.existsSync(path.join(work, 'never'))).toBe(false);
  });
});
