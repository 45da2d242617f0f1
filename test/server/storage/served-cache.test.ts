/**
 * Two registries in this process on one PostgreSQL database (replicas without the processes:
 * test/e2e/replicas.test.ts runs them as processes). Each remembers what polls read
 * (storage/postgres/served-cache.ts); a change made through the other must reach `latest` and
 * `download` within the contract's second, and a replica whose listener is lost must not serve
 * what it remembered.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import pg from 'pg';
import { generateEspImage } from '../../support/esp-image-generator.js';
import { deployTo, type IdAndToken } from '../../support/fleet.js';
import { freshDatabase, type FreshDatabase } from '../../support/postgres.js';
import {
  download,
  request,
  startRegistry,
  storeFirmwareWith,
  type TestRegistry,
} from '../../support/registry.js';
import { startS3, type TestBucket } from '../../support/s3.js';

let database: FreshDatabase;
let s3: TestBucket;
let a: TestRegistry;
let b: TestRegistry;
let apiKey: string;
let device: IdAndToken;

beforeAll(async () => {
  database = await freshDatabase();
  // One bucket and prefix for both, as replicas share them.
  s3 = await startS3();
  const env = { ...s3.env('replicas'), OTA_DATABASE_URL: database.url };
  storeFirmwareWith(() => env);
  a = await startRegistry();
  b = await startRegistry();
  apiKey = await a.addUser();
  device = await a.addDevice(apiKey);
});

afterAll(async () => {
  await a?.close();
  await b?.close();
  await database?.drop();
  await s3?.close();
});

const latest = async (registry: TestRegistry) =>
  (await request(`${registry.url}/v1/ota/device/latest/${device.id}`)).body as { ver?: string };

/**
 * How long until `check` holds, looking every 20 ms; fails after 10 s (the contract's 1 s is
 * asserted on what this returns, where it applies).
 */
async function until(check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > 10_000) throw new Error('not seen within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return Date.now() - started;
}

describe('replicas in one process, one PostgreSQL', () => {
  test('an upload through A is what B answers within a second, though B remembered the old one', async () => {
    expect(
      (await deployTo(a, apiKey, 'device', device, '1.0.0', generateEspImage({ seed: 1 }))).status,
    ).toBe(201);
    await until(async () => (await latest(b)).ver === '1.0.0');
    // B answers from memory now: make sure it is in there, then change it through A.
    // (A loaded machine can hold B's listener back past 600 ms; B then reads PostgreSQL and
    // remembers nothing until it has caught up.)
    await until(async () => {
      await latest(b);
      return b.context.servedCache!.size > 0;
    });
    expect(
      (await deployTo(a, apiKey, 'device', device, '1.1.0', generateEspImage({ seed: 2 }))).status,
    ).toBe(201);
    const waited = await until(async () => (await latest(b)).ver === '1.1.0');
    expect(waited).toBeLessThan(1000);
    // A, which made the change, answers it at once.
    expect((await latest(a)).ver).toBe('1.1.0');
  });

  test('a token rotated through A stops downloads through B within a second', async () => {
    const url = (token: string) => `${b.url}/v1/ota/device/download/${device.id}${token}`;
    expect((await download(url(device.token))).status).toBe(200);
    const rotated = await request(`${a.url}/v1/devices/${device.id}/token`, {
      method: 'POST',
      apiKey,
    });
    expect(rotated.status).toBe(200);
    const token = (rotated.body as { token: string }).token;
    const waited = await until(async () => (await download(url(device.token))).status === 404);
    expect(waited).toBeLessThan(1000);
    expect((await download(url(token))).status).toBe(200);
    device = { ...device, token };
  });

  test('B with its listener cut reads PostgreSQL until a new one catches up', async () => {
    // PGlite has one session for every connection: there is no listener's backend to end.
    if (database.kind.includes('PGlite')) return;
    await latest(b);
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    try {
      // Every listener of this database (A's and B's); the registries' queries go on.
      await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE application_name = 'ota-registry (cache invalidation)' AND datname = current_database()`,
      );
      await until(async () => !b.context.servedCache!.current);
      expect(
        (await deployTo(a, apiKey, 'device', device, '1.2.0', generateEspImage({ seed: 3 })))
          .status,
      ).toBe(201);
      expect((await latest(b)).ver).toBe('1.2.0');
      // It reconnects by itself, and remembers again.
      await until(async () => {
        await latest(b);
        return b.context.servedCache!.size > 0;
      });
    } finally {
      await admin.end();
    }
  });
});
