import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { ConfigError, loadStorage } from '../../../server/config.js';
import {
  firmwareKey,
  type FirmwareBody,
  type FirmwareStore,
} from '../../../server/storage/firmware-store.js';
import { FirmwareFiles } from '../../../server/storage/local-files/firmware-files.js';
import { S3FirmwareStore, type S3Location } from '../../../server/storage/s3/s3-firmware-store.js';
import { sha256 } from '../../support/hashes.js';
import { tempDataDir } from '../../support/registry.js';
import { startS3, type TestBucket } from '../../support/s3.js';

const MIB = 1024 * 1024;

/** One engine as the contract sees it: stores over one place, sharing what records name. */
interface Engine {
  /** A store as a registry process opens it (a second one sees only what is stored, no cache). */
  open(): FirmwareStore;
  /** What the records name: the S3 sweep keeps these bytes. */
  referenced: Set<string>;
}

let s3: TestBucket;
let prefixes = 0;
beforeAll(async () => {
  s3 = await startS3();
});
afterAll(() => s3.close());

const engines: Array<[string, () => Engine]> = [
  [
    'local files',
    () => {
      const dataDir = tempDataDir();
      return { open: () => new FirmwareFiles(dataDir), referenced: new Set() };
    },
  ],
  [
    'S3 (s3rver)',
    () => {
      const dataDir = tempDataDir();
      const referenced = new Set<string>();
      const location = s3Location(`contract-${++prefixes}`);
      // No grace period: a sweep removes whatever no record names at once.
      const options = { isReferenced: (sha: string) => referenced.has(sha), graceMs: 0 };
      return { open: () => new S3FirmwareStore(location, dataDir, options), referenced };
    },
  ],
];

function s3Location(prefix: string, bucket = s3.bucket): S3Location {
  return { bucket, prefix: `${prefix}/`, endpoint: s3.endpoint, region: 'us-east-1' };
}

/** An upload as the middleware leaves it: complete, fsynced, in tmp/. */
function spool(store: FirmwareStore, bytes: Buffer): { tempPath: string; sha: string } {
  const tempPath = store.newTempPath();
  fs.writeFileSync(tempPath, bytes, { mode: 0o600 });
  return { tempPath, sha: sha256(bytes) };
}

/** stage → commit (the deploy transaction) → settle, as an upload that is answered 201. */
async function deploy(store: FirmwareStore, key: string, bytes: Buffer): Promise<string> {
  const { tempPath, sha } = spool(store, bytes);
  await store.stage(tempPath, sha, bytes.length);
  store.commit(tempPath, key);
  await store.settle(tempPath, sha, bytes.length);
  return sha;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The bytes a body serves, whole or one range, as send-firmware.ts sends them. */
async function served(body: FirmwareBody, range?: { start: number; end: number }) {
  if (Buffer.isBuffer(body)) return range ? body.subarray(range.start, range.end + 1) : body;
  return readAll(body.createReadStream(range ?? {}));
}

const key = (version: string, id = 'a'.repeat(24)) => firmwareKey('device', id, version);

describe.each(engines)('firmware store contract: %s', (_name, makeEngine) => {
  let engine: Engine;
  let store: FirmwareStore;
  beforeAll(() => {
    engine = makeEngine();
    store = engine.open();
  });
  afterAll(() => store.close());

  const tmpFiles = () => fs.readdirSync(path.dirname(store.newTempPath()));

  test('a committed upload is served from memory, the same bytes; tmp/ is left empty', async () => {
    const bytes = randomBytes(300 * 1024);
    const sha = await deploy(store, key('1.0.0'), bytes);
    expect(tmpFiles()).toEqual([]);
    const body = await store.body(key('1.0.0'), sha, bytes.length);
    expect(Buffer.isBuffer(body)).toBe(true);
    expect((await served(body)).equals(bytes)).toBe(true);
    // Another process (replica) on the same storage, with nothing cached, serves the same.
    const other = engine.open();
    try {
      expect((await served(await other.body(key('1.0.0'), sha, bytes.length))).equals(bytes)).toBe(
        true,
      );
    } finally {
      other.close();
    }
  });

  test('an image over the cache limit (16 MiB) is streamed, whole and one range (a resumed download)', async () => {
    const bytes = randomBytes(17 * MIB);
    const sha = await deploy(store, key('2.0.0'), bytes);
    const whole = await store.body(key('2.0.0'), sha, bytes.length);
    expect(Buffer.isBuffer(whole)).toBe(false);
    expect((await served(whole)).equals(bytes)).toBe(true);
    const ranged = await store.body(key('2.0.0'), sha, bytes.length);
    const range = { start: 5 * MIB + 3, end: 17 * MIB - 2 };
    expect((await served(ranged, range)).equals(bytes.subarray(range.start, range.end + 1))).toBe(
      true,
    );
    // A body that will not be streamed (HEAD, 304) is released without reading it.
    await (
      (await store.body(key('2.0.0'), sha, bytes.length)) as { close(): Promise<void> }
    ).close();
  });

  test('bytes that are not stored: the error says ENOENT, whatever the engine (cached size or not)', async () => {
    const sha = sha256(randomBytes(16));
    await expect(store.body(key('9.9.9'), sha, 1000)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(store.body(key('9.9.8'), sha, 20 * MIB)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  test('an upload refused after staging (never committed) leaves nothing served once swept', async () => {
    const bytes = randomBytes(64 * 1024);
    const { tempPath, sha } = spool(store, bytes);
    await store.stage(tempPath, sha, bytes.length);
    await store.settle(tempPath, sha, bytes.length);
    expect(tmpFiles()).toEqual([]);
    await store.sweep();
    const fresh = engine.open();
    try {
      await expect(fresh.body(key('3.0.0'), sha, bytes.length)).rejects.toMatchObject({
        code: 'ENOENT',
      });
    } finally {
      fresh.close();
    }
  });

  test('pruned versions and removed targets: their bytes go (files at once, objects at the sweep); named ones stay', async () => {
    const target = 'b'.repeat(24);
    const kept = randomBytes(50 * 1024);
    const pruned = randomBytes(51 * 1024);
    const gone = randomBytes(52 * 1024);
    const keptSha = await deploy(store, key('1.0.0', target), kept);
    const prunedSha = await deploy(store, key('1.1.0', target), pruned);
    const goneSha = await deploy(store, key('1.0.0', 'c'.repeat(24)), gone);
    engine.referenced.add(keptSha);

    store.remove(key('1.1.0', target));
    store.removeTarget('device', 'c'.repeat(24));
    await store.sweep();

    const fresh = engine.open();
    try {
      expect(
        (await served(await fresh.body(key('1.0.0', target), keptSha, kept.length))).equals(kept),
      ).toBe(true);
      await expect(
        fresh.body(key('1.1.0', target), prunedSha, pruned.length),
      ).rejects.toMatchObject({
        code: 'ENOENT',
      });
      await expect(
        fresh.body(key('1.0.0', 'c'.repeat(24)), goneSha, gone.length),
      ).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      fresh.close();
    }
  });

  test('unfinished uploads left in tmp/ by a crash are removed at the next start', () => {
    fs.writeFileSync(store.newTempPath(), 'half an upload');
    expect(engine.open().removeLeftoverTempFiles()).toBe(1);
    expect(tmpFiles()).toEqual([]);
  });
});

describe('S3 engine specifics (s3rver, through the AWS SDK)', () => {
  const open = (prefix: string, options: { graceMs?: number; referenced?: Set<string> } = {}) =>
    new S3FirmwareStore(s3Location(prefix), tempDataDir(), {
      isReferenced: (sha) => options.referenced?.has(sha) ?? false,
      ...(options.graceMs !== undefined ? { graceMs: options.graceMs } : {}),
    });

  test('an 8 MiB upload goes as a multipart upload of two parts, and reads back byte for byte', async () => {
    const store = open('multipart');
    try {
      const bytes = randomBytes(8 * MIB);
      const before = s3.requests.length;
      const sha = await deploy(store, key('1.0.0'), bytes);
      const requests = s3.requests.slice(before).filter((line) => line.includes(sha));
      expect(requests.filter((line) => /^POST .*\?uploads/.test(line))).toHaveLength(1);
      expect(requests.filter((line) => /^PUT .*partNumber=/.test(line))).toHaveLength(2);
      expect(requests.filter((line) => /^POST .*uploadId=/.test(line))).toHaveLength(1);
      const stored = fs.readFileSync(
        path.join(s3.directory, s3.bucket, `multipart/firmware/${sha}._S3rver_object`),
      );
      expect(stored.equals(bytes)).toBe(true);
    } finally {
      store.close();
    }
  });

  test('the same image uploaded for many devices at once: one transfer, every upload staged', async () => {
    const store = open('same-bytes', { graceMs: 60 * 60 * 1000 });
    try {
      const bytes = randomBytes(6 * MIB);
      const sha = sha256(bytes);
      const before = s3.requests.length;
      const uploads = Array.from({ length: 6 }, () => spool(store, bytes));
      await Promise.all(uploads.map(({ tempPath }) => store.stage(tempPath, sha, bytes.length)));
      uploads.forEach(({ tempPath }, i) => store.commit(tempPath, key(`1.0.${i}`)));
      await Promise.all(uploads.map(({ tempPath }) => store.settle(tempPath, sha, bytes.length)));
      const created = s3.requests.slice(before).filter((line) => /^POST .*\?uploads/.test(line));
      expect(created).toHaveLength(1);
      // A later upload of the same bytes, while the object is young, sends nothing either.
      await deploy(store, key('1.1.0'), bytes);
      expect(
        s3.requests.slice(before).filter((line) => /^POST .*\?uploads/.test(line)),
      ).toHaveLength(1);
      const fresh = open('same-bytes');
      expect(((await fresh.body(key('1.0.3'), sha, bytes.length)) as Buffer).equals(bytes)).toBe(
        true,
      );
      fresh.close();
    } finally {
      store.close();
    }
  });

  test('the sweep leaves unreferenced objects younger than the grace period (an upload about to commit) and named ones', async () => {
    const referenced = new Set<string>();
    const store = open('grace', { graceMs: 60 * 60 * 1000, referenced });
    try {
      const young = randomBytes(1000);
      const named = randomBytes(1001);
      const youngSha = await deploy(store, key('1.0.0'), young);
      referenced.add(await deploy(store, key('1.1.0'), named));
      expect(await store.sweep()).toBe(0);
      // Two hours later: the unreferenced one goes, the named one stays.
      expect(await store.sweep(Date.now() + 2 * 60 * 60 * 1000)).toBe(1);
      const fresh = open('grace');
      await expect(fresh.body(key('1.0.0'), youngSha, young.length)).rejects.toMatchObject({
        code: 'ENOENT',
      });
      expect(
        Buffer.from((await fresh.body(key('1.1.0'), sha256(named), named.length)) as Buffer).equals(
          named,
        ),
      ).toBe(true);
      fresh.close();
    } finally {
      store.close();
    }
  });

  test('a sweep that removed the object between stage and commit (same bytes re-uploaded): settle stores it again', async () => {
    const store = open('race', { graceMs: 0 });
    try {
      const bytes = randomBytes(4000);
      const { tempPath, sha } = spool(store, bytes);
      await store.stage(tempPath, sha, bytes.length);
      expect(await store.sweep()).toBe(1); // nothing names it yet
      store.commit(tempPath, key('1.0.0'));
      await store.settle(tempPath, sha, bytes.length);
      const fresh = open('race');
      expect(((await fresh.body(key('1.0.0'), sha, bytes.length)) as Buffer).equals(bytes)).toBe(
        true,
      );
      fresh.close();
    } finally {
      store.close();
    }
  });

  test('the sweep looks at the references and removes the object inside options.exclusive (where no other replica commits), then lets go', async () => {
    const events: string[] = [];
    const dataDir = tempDataDir();
    const location = s3Location('exclusive');
    const store = new S3FirmwareStore(location, dataDir, {
      isReferenced: () => {
        events.push('look');
        return false;
      },
      graceMs: 0,
      exclusive: async (task) => {
        events.push('hold');
        const before = s3.requests.length;
        try {
          return await task();
        } finally {
          // What reached the bucket while held: the removal.
          for (const line of s3.requests.slice(before)) events.push(line.split(' ')[0]);
          events.push('let go');
        }
      },
    });
    try {
      const bytes = randomBytes(3000);
      const { tempPath, sha } = spool(store, bytes);
      await store.stage(tempPath, sha, bytes.length);
      await store.settle(tempPath, sha, bytes.length);
      events.length = 0;
      expect(await store.sweep()).toBe(1);
      // The first look (before the object's age is checked) is outside; the last one inside.
      expect(events).toEqual(['look', 'hold', 'look', 'DELETE', 'let go']);
    } finally {
      store.close();
    }
  });

  test('an upload of bytes this process is removing in a sweep waits for the removal, then stores them again', async () => {
    let upload: Promise<string> | undefined;
    const bytes = randomBytes(5000);
    const sha = sha256(bytes);
    const location = s3Location('removing');
    const store = new S3FirmwareStore(location, tempDataDir(), {
      isReferenced: () => false,
      graceMs: 0,
      // The upload of the same bytes starts just as the sweep is about to remove them.
      exclusive: (task) => {
        upload ??= deploy(store, key('1.0.1'), bytes);
        return task();
      },
    });
    try {
      await deploy(store, key('1.0.0'), bytes);
      const before = s3.requests.length;
      expect(await store.sweep()).toBe(1);
      await upload;
      const requests = s3.requests
        .slice(before)
        .filter((line) => line.includes(sha))
        .map((line) => line.split(' ')[0]);
      // Removed first; only then does the upload look (HEAD) and send the bytes again.
      expect(requests.slice(0, 3)).toEqual(['HEAD', 'DELETE', 'HEAD']);
      expect(requests).toContain('PUT');
      const fresh = open('removing');
      expect(((await fresh.body(key('1.0.1'), sha, bytes.length)) as Buffer).equals(bytes)).toBe(
        true,
      );
      fresh.close();
    } finally {
      store.close();
    }
  });

  test('a store that refuses (no such bucket): stage fails, nothing is left in tmp/ by settle', async () => {
    const store = new S3FirmwareStore(s3Location('x', 'no-such-bucket'), tempDataDir(), {
      isReferenced: () => false,
    });
    try {
      const bytes = randomBytes(1000);
      const { tempPath, sha } = spool(store, bytes);
      await expect(store.stage(tempPath, sha, bytes.length)).rejects.toMatchObject({
        code: 'EOBJECTSTORE',
      });
      await store.settle(tempPath, sha, bytes.length).catch(() => undefined);
      expect(fs.existsSync(tempPath)).toBe(false);
    } finally {
      store.close();
    }
  });
});

describe('--storage settings', () => {
  test('s3://bucket[/prefix], OTA_S3_ENDPOINT (path-style), OTA_S3_REGION (default us-east-1)', () => {
    expect(loadStorage(undefined, {})).toBeNull();
    expect(loadStorage('s3://firmware', {})).toEqual({
      bucket: 'firmware',
      prefix: '',
      endpoint: null,
      region: 'us-east-1',
    });
    expect(
      loadStorage(undefined, {
        OTA_STORAGE_URL: 's3://my-bucket/ota/prod/',
        OTA_S3_ENDPOINT: 'http://127.0.0.1:9000/',
        OTA_S3_REGION: 'eu-central-1',
      }),
    ).toEqual({
      bucket: 'my-bucket',
      prefix: 'ota/prod/',
      endpoint: 'http://127.0.0.1:9000',
      region: 'eu-central-1',
    });
    // The flag wins over the variable.
    expect(loadStorage('s3://flag', { OTA_STORAGE_URL: 's3://env-bucket' })?.bucket).toBe('flag');
  });

  test.each([
    [
      '--storage',
      'file:///srv/ota',
      {},
      /--storage is "file:\/\/\/srv\/ota": expected s3:\/\/bucket/,
    ],
    ['--storage', 's3://Bad_Bucket', {}, /names the bucket "Bad_Bucket"/],
    ['--storage', 's3://ota/a//b', {}, /empty, \. or \.\. segment/],
    [
      'OTA_S3_ENDPOINT',
      's3://ota',
      { OTA_S3_ENDPOINT: 'ftp://x' },
      /OTA_S3_ENDPOINT starts with ftp:/,
    ],
    ['OTA_S3_REGION', 's3://ota', { OTA_S3_REGION: 'EU WEST' }, /OTA_S3_REGION is "EU WEST"/],
  ])('a bad %s stops the start with a message naming it', (_what, flag, env, message) => {
    expect(() => loadStorage(flag, env)).toThrow(ConfigError);
    expect(() => loadStorage(flag, env)).toThrow(message);
  });

  test('credentials in OTA_S3_ENDPOINT are refused and never echoed', () => {
    let error: unknown;
    try {
      loadStorage('s3://ota', { OTA_S3_ENDPOINT: 'http://admin:hunter2@minio:9000' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/AWS_ACCESS_KEY_ID/);
    expect((error as Error).message).not.toContain('hunter2');
  });
});
