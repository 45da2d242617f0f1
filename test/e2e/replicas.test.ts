/**
 * API.md "Several replicas (PostgreSQL + S3)": `ota-registry serve` processes, started as an
 * operator starts them, on one PostgreSQL database and one bucket (s3rver), each with its own
 * data directory and port, are one registry. An upload answered 201 by one is what `latest` and
 * `download` on the others answer from 1 s later; a replica killed with SIGKILL mid-upload
 * leaves the others serving the previous version; replicas starting at once migrate the schema
 * once. With --mqtt, a device report reaches one replica only (a shared subscription).
 */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { pgMigrations } from '../../server/storage/postgres/migrations.js';
import { generateEspImage } from '../support/esp-image-generator.js';
import { md5, sha256 } from '../support/hashes.js';
import { mqttClient, sharedBroker, uniqueMqttUser } from '../support/mqtt-broker.js';
import { freshDatabase, type FreshDatabase } from '../support/postgres.js';
import {
  cliUserWithDevice,
  killAllRegistries,
  runCli,
  spawnRegistry,
  type RegistryProcess,
} from '../support/registry-process.js';
import { download, request, tempDataDir, upload, waitFor } from '../support/registry.js';
import { startS3, type TestBucket } from '../support/s3.js';
import { freePort } from '../support/serve-process.js';

// Several registry processes, PostgreSQL and s3rver on two busy cores.
jest.setTimeout(240_000);

/** What API.md allows a replica to trail another's 201 by. */
const REPLICA_LAG_MS = 1000;

let s3: TestBucket;
const databases: FreshDatabase[] = [];
beforeAll(async () => {
  s3 = await startS3();
});
afterAll(async () => {
  killAllRegistries();
  await s3.close();
  for (const database of databases) await database.drop();
});

async function newDatabase(): Promise<FreshDatabase> {
  const database = await freshDatabase();
  databases.push(database);
  // Which PostgreSQL ran, in the test output.
  process.stderr.write(`[replicas] metadata in ${database.kind}\n`);
  return database;
}

/** One replica as an operator runs it: its own data directory and port, the shared backends. */
interface Replica {
  dataDir: string;
  port: number;
  process: RegistryProcess;
  url: string;
}

async function startReplica(
  database: FreshDatabase,
  prefix: string,
  { dataDir = tempDataDir(), port = 0, extra = [] as string[] } = {},
): Promise<Replica> {
  port ||= await freePort();
  const env = s3.env(prefix);
  const started = await spawnRegistry(
    dataDir,
    ['--port', String(port), '--database', database.url, ...extra],
    env,
  );
  return { dataDir, port, process: started, url: started.url };
}

async function stopReplica(replica: Replica): Promise<void> {
  if (replica.process.child.exitCode !== null || replica.process.child.signalCode !== null) return;
  replica.process.child.kill('SIGTERM');
  expect((await replica.process.exited).code).toBe(0);
}

/** An upload's multipart body, as fetch would send it. */
async function multipartBody(fields: Record<string, string>, firmware: Buffer) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('firmware', new Blob([firmware]), 'firmware.bin');
  const encoded = new Response(form);
  return {
    body: Buffer.from(await encoded.arrayBuffer()),
    contentType: encoded.headers.get('content-type')!,
  };
}

/** Sends the first `sendBytes` bytes of an upload, slowly, and leaves the request open. */
function sendPartOfUpload(
  url: string,
  apiKey: string,
  { body, contentType }: { body: Buffer; contentType: string },
  sendBytes: number,
): void {
  const req = http.request(new URL('/v1/ota/device', url), {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${apiKey}`,
      'Content-Type': contentType,
      'Content-Length': String(body.length),
    },
  });
  req.on('error', () => undefined); // the server dies mid-request: expected
  const chunk = 256 * 1024;
  let sent = 0;
  const next = () => {
    if (sent >= sendBytes || req.destroyed) return;
    const end = Math.min(sendBytes, sent + chunk);
    req.write(body.subarray(sent, end));
    sent = end;
    setTimeout(next, 20);
  };
  next();
}

const HEADERS = ['content-length', 'x-md5', 'etag', 'content-type', 'content-disposition'];

function headersOf(answer: { headers: Headers }): Record<string, string | null> {
  return Object.fromEntries(HEADERS.map((name) => [name, answer.headers.get(name)]));
}

describe('several replicas on one PostgreSQL database and one bucket', () => {
  const v1 = generateEspImage({ seed: 101, size: 512 * 1024 });
  // Large enough that half of it takes a while to arrive (sent slowly): the kill lands mid-body.
  const v2 = generateEspImage({ seed: 102, size: 6 * 1024 * 1024 });
  const v3 = generateEspImage({ seed: 103, size: 300 * 1024 });

  let database: FreshDatabase;
  let a: Replica;
  let b: Replica;
  let apiKey: string;
  let device: { _id: string; token: string };
  const fields = (version: string) => ({ device: device._id, token: device.token, version });
  const deploy = (replica: Replica, version: string, bytes: Buffer) =>
    upload(`${replica.url}/v1/ota/device`, apiKey, fields(version), [{ bytes }]);
  const latest = (replica: Replica) => request(`${replica.url}/v1/ota/device/latest/${device._id}`);
  const fetchFirmware = (replica: Replica, headers: Record<string, string> = {}) =>
    download(`${replica.url}/v1/ota/device/download/${device._id}${device.token}`, headers);

  /** After an upload answered at `answeredAt`: what a replica must answer from 1 s later. */
  async function expectServes(
    replica: Replica,
    version: string,
    bytes: Buffer,
    answeredAt: number,
  ) {
    const wait = answeredAt + REPLICA_LAG_MS - Date.now();
    if (wait > 0) await sleep(wait);
    expect((await latest(replica)).body).toEqual({ ver: version });
    const served = await fetchFirmware(replica);
    expect(served.status).toBe(200);
    expect(served.bytes.equals(bytes)).toBe(true);
    expect(served.headers.get('x-md5')).toBe(md5(bytes));
    return served;
  }

  beforeAll(async () => {
    database = await newDatabase();
    [a, b] = await Promise.all([
      startReplica(database, 'replicas'),
      startReplica(database, 'replicas'),
    ]);
    // The operator CLI on a third data directory: what it writes is in PostgreSQL, for all.
    ({ apiKey, device } = await cliUserWithDevice(tempDataDir(), 'ops@example.com', {
      args: ['--database', database.url],
    }));
  });
  afterAll(async () => {
    for (const replica of [a, b]) if (replica) await stopReplica(replica);
  });

  test('an upload answered 201 by A is what B serves 1 s later: same bytes, same headers, ranges', async () => {
    const uploaded = await deploy(a, '1.0.0', v1);
    const answeredAt = Date.now();
    expect(uploaded.status).toBe(201);
    const fromB = await expectServes(b, '1.0.0', v1, answeredAt);
    const fromA = await fetchFirmware(a);
    expect(fromA.bytes.equals(v1)).toBe(true);
    expect(headersOf(fromB)).toEqual(headersOf(fromA));
    expect(headersOf(fromB)).toEqual({
      'content-length': String(v1.length),
      'x-md5': md5(v1),
      etag: `"${sha256(v1)}"`,
      'content-type': 'application/octet-stream',
      'content-disposition': 'attachment; filename="firmware.bin"',
    });

    const range = await fetchFirmware(b, { Range: 'bytes=1000-4999' });
    expect(range.status).toBe(206);
    expect(range.headers.get('content-range')).toBe(`bytes 1000-4999/${v1.length}`);
    expect(range.bytes.equals(v1.subarray(1000, 5000))).toBe(true);
  });

  test('A killed with SIGKILL mid-upload: B keeps serving the previous version intact; A restarted agrees, and takes the next upload', async () => {
    const body = await multipartBody(fields('2.0.0'), v2);
    // B serves devices all along: every answer must be the previous version, whole.
    const answers: string[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const [now, bytes] = await Promise.all([latest(b), fetchFirmware(b)]);
        answers.push(
          `${JSON.stringify(now.body)} ${bytes.status} ${bytes.bytes.equals(v1) ? 'v1' : 'other'}`,
        );
      }
    })();

    const tmp = path.join(a.dataDir, 'tmp');
    sendPartOfUpload(a.url, apiKey, body, Math.floor(body.body.length / 2));
    await waitFor(
      () => fs.readdirSync(tmp).some((name) => fs.statSync(path.join(tmp, name)).size > 1 << 20),
      'a part of the upload to reach A',
      60_000,
    );
    a.process.child.kill('SIGKILL');
    expect((await a.process.exited).signal).toBe('SIGKILL');
    await sleep(REPLICA_LAG_MS);
    polling = false;
    await poller;
    expect(answers.length).toBeGreaterThan(0);
    expect(new Set(answers)).toEqual(new Set(['{"ver":"1.0.0"} 200 v1']));
    // Nothing of the cut upload reached the bucket.
    const objects = fs.readdirSync(path.join(s3.directory, s3.bucket, 'replicas', 'firmware'));
    expect(objects.filter((name) => name.startsWith(sha256(v2)))).toEqual([]);

    // Restarted as it was started: same data directory, same port, same backends.
    a = await startReplica(database, 'replicas', { dataDir: a.dataDir, port: a.port });
    expect(a.process.output()).toContain('Removed 1 unfinished upload');
    for (const replica of [a, b]) await expectServes(replica, '1.0.0', v1, 0);

    const uploaded = await deploy(a, '2.0.0', v2);
    const answeredAt = Date.now();
    expect(uploaded.status).toBe(201);
    await expectServes(b, '2.0.0', v2, answeredAt);
    await expectServes(a, '2.0.0', v2, answeredAt);
  });

  test('a third replica starts while two serve traffic, and serves what they serve', async () => {
    const failures: string[] = [];
    let polling = true;
    const poll = async (replica: Replica) => {
      while (polling) {
        const [now, bytes] = await Promise.all([latest(replica), fetchFirmware(replica)]);
        if (now.status !== 200 || bytes.status !== 200) {
          failures.push(`${replica.url}: ${now.status} ${bytes.status}`);
        }
      }
    };
    const pollers = [poll(a), poll(b)];
    const c = await startReplica(database, 'replicas');
    try {
      const uploaded = await deploy(c, '3.0.0', v3);
      const answeredAt = Date.now();
      expect(uploaded.status).toBe(201);
      polling = false;
      await Promise.all(pollers);
      expect(failures).toEqual([]);
      for (const replica of [a, b, c]) await expectServes(replica, '3.0.0', v3, answeredAt);
    } finally {
      polling = false;
      await stopReplica(c);
    }
  });
});

test('three replicas started at the same moment on an empty database: all serve, the schema is migrated once', async () => {
  const database = await newDatabase();
  const replicas = await Promise.all([1, 2, 3].map(() => startReplica(database, 'at-once')));
  try {
    const { apiKey, device } = await cliUserWithDevice(tempDataDir(), 'once@example.com', {
      args: ['--database', database.url],
    });
    const image = generateEspImage({ seed: 104, size: 64 * 1024 });
    const uploaded = await upload(
      `${replicas[2].url}/v1/ota/device`,
      apiKey,
      { device: device._id, token: device.token, version: '0.1.0' },
      [{ bytes: image }],
    );
    const answeredAt = Date.now();
    expect(uploaded.status).toBe(201);
    await sleep(Math.max(0, answeredAt + REPLICA_LAG_MS - Date.now()));
    for (const replica of replicas) {
      expect((await request(`${replica.url}/v1/ota/device/latest/${device._id}`)).body).toEqual({
        ver: '0.1.0',
      });
    }
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ version: string }>(
        'SELECT version FROM ota_schema ORDER BY version',
      );
      // One row per migration (server/storage/postgres/migrations.ts), none twice.
      expect(rows.map((row) => Number(row.version))).toEqual(pgMigrations.map((_, i) => i + 1));
    } finally {
      await client.end();
    }
  } finally {
    for (const replica of replicas) await stopReplica(replica);
  }
});

test('with --mqtt, two replicas record each device report once (a shared subscription)', async () => {
  const broker = await sharedBroker();
  const database = await newDatabase();
  const mqttUser = uniqueMqttUser();
  const dataDir = tempDataDir();
  const databaseArgs = ['--database', database.url];
  await cliUserWithDevice(dataDir, 'mqtt@example.com', {
    userArgs: ['--mqtt-user', mqttUser],
    args: databaseArgs,
  });
  const devices: string[] = [];
  for (let i = 0; i < 6; i++) {
    const added = await runCli([
      'device',
      'add',
      '--user',
      'mqtt@example.com',
      '--json',
      '--data',
      dataDir,
      ...databaseArgs,
    ]);
    expect(added.code).toBe(0);
    devices.push((JSON.parse(added.stdout) as { _id: string })._id);
  }
  // Every write to a device row, counted by PostgreSQL itself: a report recorded by two replicas
  // is two writes (the second one changes nothing, so the API alone could not tell).
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    await client.query(`
      CREATE TABLE test_device_writes (id TEXT, uptime BIGINT);
      CREATE FUNCTION test_count_device_write() RETURNS trigger AS $$
        BEGIN INSERT INTO test_device_writes VALUES (NEW.id, NEW.uptime); RETURN NEW; END
      $$ LANGUAGE plpgsql;
      CREATE TRIGGER test_device_writes AFTER UPDATE ON devices
        FOR EACH ROW EXECUTE FUNCTION test_count_device_write();
    `);
    const replicas = await Promise.all(
      [1, 2].map(() => startReplica(database, 'mqtt', { extra: ['--mqtt', broker.url] })),
    );
    try {
      // Both replicas subscribed: each says so on its health endpoint once connected.
      for (const replica of replicas) {
        await waitFor(
          async () =>
            ((await request(`${replica.url}/healthz`)).body as { mqtt?: string }).mqtt ===
            'connected',
          'the replica to connect to the broker',
          20_000,
        );
      }
      // The subscriptions are made right after connecting; give the broker a moment to have them.
      await sleep(500);
      const publisher = await mqttClient(broker.url);
      try {
        for (const [i, id] of devices.entries()) {
          await publisher.publishAsync(
            `/${mqttUser}/devices/${id}/status`,
            JSON.stringify({ fw_version: '1.0.0', uptime: 100 + i }),
            { qos: 1 },
          );
        }
      } finally {
        await publisher.endAsync();
      }
      const writes = async () =>
        (await client.query<{ n: string }>('SELECT count(*) AS n FROM test_device_writes')).rows[0]
          .n;
      await waitFor(async () => Number(await writes()) >= devices.length, 'the reports', 20_000);
      // Each replica writes what it received within a second of receiving it: let both flush.
      await sleep(3 * REPLICA_LAG_MS);
      const { rows } = await client.query<{ id: string; n: string }>(
        'SELECT id, count(*) AS n FROM test_device_writes GROUP BY id ORDER BY id',
      );
      expect(rows.map((row) => [row.id, Number(row.n)])).toEqual(
        [...devices].sort().map((id) => [id, 1]),
      );
    } finally {
      for (const replica of replicas) await stopReplica(replica);
    }
  } finally {
    await client.end();
  }
});
