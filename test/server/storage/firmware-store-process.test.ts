/**
 * A registry process with firmware in S3 (s3rver), killed with SIGKILL in the middle of an
 * upload: while the body arrives, and while the image is being sent to the bucket. Restarted on
 * the same data directory and bucket, it serves the previous version intact.
 */
import { Messages } from '../../../server/errors.js';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { generateEspImage } from '../../support/esp-image-generator.js';
import { sha256 } from '../../support/hashes.js';
import {
  cliUserWithDevice,
  killAllRegistries,
  type RegistryProcess,
  runCli,
  spawnRegistry,
} from '../../support/registry-process.js';
import { download, request, tempDataDir, upload, waitFor } from '../../support/registry.js';
import { startS3, type TestBucket } from '../../support/s3.js';

let s3: TestBucket;
beforeAll(async () => {
  s3 = await startS3();
});
afterAll(async () => {
  killAllRegistries();
  await s3.close();
});

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

/** Sends the first `sendBytes` bytes of an upload and leaves the request open. */
function sendUpload(
  url: string,
  apiKey: string,
  { body, contentType }: { body: Buffer; contentType: string },
  sendBytes = body.length,
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
  req.write(body.subarray(0, sendBytes));
  if (sendBytes === body.length) req.end();
}

describe('SIGKILL mid-upload with firmware in S3', () => {
  const v1 = generateEspImage({ seed: 1, size: 512 * 1024 });
  // Two parts of S3's 5 MiB: the kill can land between them.
  const v2 = generateEspImage({ seed: 2, size: 8 * 1024 * 1024 });

  test.each([
    ['half of the body has arrived', 'body'],
    ['the image is being sent to the bucket', 'bucket'],
  ])(
    'killed when %s, restarted: the previous version is served intact, the upload then succeeds',
    async (_when, moment) => {
      const dataDir = tempDataDir();
      const env = s3.env(`kill-${moment}`);
      const first: RegistryProcess = await spawnRegistry(dataDir, [], env);
      const { apiKey, device } = await cliUserWithDevice(dataDir, 'ops@example.com');
      const fields = (version: string) => ({ device: device._id, token: device.token, version });
      const deploy = (url: string, version: string, bytes: Buffer) =>
        upload(`${url}/v1/ota/device`, apiKey, fields(version), [{ bytes }]);
      expect((await deploy(first.url, '1.0.0', v1)).status).toBe(201);

      const body = await multipartBody(fields('2.0.0'), v2);
      const tmp = path.join(dataDir, 'tmp');
      if (moment === 'body') {
        sendUpload(first.url, apiKey, body, Math.floor(body.body.length / 2));
        await waitFor(
          () => fs.readdirSync(tmp).some((name) => fs.statSync(path.join(tmp, name)).size > 0),
          'the upload to reach tmp/',
        );
      } else {
        const seen = s3.requests.length;
        sendUpload(first.url, apiKey, body);
        // The first part of the v2 object is on its way: the object does not exist yet.
        await waitFor(
          () =>
            s3.requests
              .slice(seen)
              .some((line) => line.includes(sha256(v2)) && line.includes('partNumber=')),
          'the first part to reach the bucket',
          20000,
        );
      }
      first.child.kill('SIGKILL');
      expect((await first.exited).signal).toBe('SIGKILL');

      const second = await spawnRegistry(dataDir, [], env);
      try {
        expect(second.output()).toContain('Removed 1 unfinished upload');
        expect(second.output()).toContain(`Firmware in s3://${s3.bucket}/kill-${moment}`);
        expect(fs.readdirSync(tmp)).toEqual([]);
        expect((await request(`${second.url}/v1/ota/device/latest/${device._id}`)).body).toEqual({
          ver: '1.0.0',
        });
        const served = await download(
          `${second.url}/v1/ota/device/download/${device._id}${device.token}`,
        );
        expect(served.status).toBe(200);
        expect(served.bytes.equals(v1)).toBe(true);
        expect(served.headers.get('etag')).toBe(`"${sha256(v1)}"`);

        expect((await deploy(second.url, '2.0.0', v2)).status).toBe(201);
        const after = await download(
          `${second.url}/v1/ota/device/download/${device._id}${device.token}`,
        );
        expect(after.bytes.equals(v2)).toBe(true);
      } finally {
        second.child.kill('SIGTERM');
        expect((await second.exited).code).toBe(0);
      }
    },
  );

  test('at start a registry sweeps the objects no version names that are over an hour old, and only those', async () => {
    const dataDir = tempDataDir();
    const env = s3.env('sweep');
    const objectFile = (bytes: Buffer) =>
      path.join(s3.directory, s3.bucket, `sweep/firmware/${sha256(bytes)}._S3rver_object`);
    const first = await spawnRegistry(dataDir, ['--history', '1'], env);
    const { apiKey, device } = await cliUserWithDevice(dataDir, 'sweep@example.com');
    const images = [1, 2, 3].map((seed) => generateEspImage({ seed: 40 + seed }));
    for (const [i, bytes] of images.slice(0, 2).entries()) {
      const res = await upload(
        `${first.url}/v1/ota/device`,
        apiKey,
        { device: device._id, token: device.token, version: `1.0.${i}` },
        [{ bytes }],
      );
      expect(res.status).toBe(201);
    }
    first.child.kill('SIGTERM');
    await first.exited;
    // 1.0.0 was pruned (history 1): its object is unreferenced. Make it two hours old, and leave
    // an unreferenced object of the third image young (an upload that has not committed yet).
    const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    fs.utimesSync(objectFile(images[0]), twoHoursAgo, twoHoursAgo);
    fs.copyFileSync(objectFile(images[1]), objectFile(images[2]));
    fs.copyFileSync(
      objectFile(images[1]).replace('._S3rver_object', '._S3rver_metadata.json'),
      objectFile(images[2]).replace('._S3rver_object', '._S3rver_metadata.json'),
    );

    const second = await spawnRegistry(dataDir, ['--history', '1'], env);
    try {
      await waitFor(() => !fs.existsSync(objectFile(images[0])), 'the sweep at start');
      await waitFor(
        () => second.output().includes('Removed 1 unreferenced firmware object(s).'),
        'its line',
      );
      expect(fs.existsSync(objectFile(images[1]))).toBe(true);
      expect(fs.existsSync(objectFile(images[2]))).toBe(true);
      const served = await download(
        `${second.url}/v1/ota/device/download/${device._id}${device.token}`,
      );
      expect(served.bytes.equals(images[1])).toBe(true);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });

  test.each([[[]], [['--workers', '2']]])(
    'serve --storage %p: the start-up line names the bucket, never the credentials',
    async (extra) => {
      const env = { ...s3.env(), OTA_STORAGE_URL: undefined };
      const registry = await spawnRegistry(
        tempDataDir(),
        ['--storage', `s3://${s3.bucket}/flag`, ...extra],
        env,
      );
      registry.child.kill('SIGTERM');
      await registry.exited;
      expect(registry.output()).toContain(`Firmware in s3://${s3.bucket}/flag (docs/storage.md)`);
      expect(registry.output()).not.toContain('S3RVER');
    },
  );

  test('ota-registry backup refuses with --storage s3 (or OTA_STORAGE_URL) and says what to do instead', async () => {
    const dataDir = tempDataDir();
    const target = path.join(tempDataDir(), 'backup');
    for (const [args, env] of [
      [['--storage', 's3://firmware/ota'], {}],
      [[], { OTA_STORAGE_URL: 's3://firmware/ota' }],
    ] as const) {
      const result = await runCli(['backup', target, '--data', dataDir, ...args], undefined, env);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/firmware is in s3:\/\/firmware\/ota/);
      expect(result.stderr).toMatch(/versioning/);
      expect(result.stderr).toMatch(/sqlite3's \.backup/);
      expect(fs.existsSync(target)).toBe(false);
    }
    // With the metadata in PostgreSQL, the data directory holds none of it.
    for (const [args, env] of [
      [['--database', 'postgres://ota@db.example.com/ota'], {}],
      [[], { OTA_DATABASE_URL: 'postgres://ota@db.example.com/ota' }],
    ] as const) {
      const result = await runCli(['backup', target, '--data', dataDir, ...args], undefined, env);
      expect(result.code).toBe(2);
      expect(result.stderr.trim()).toBe(`ota-registry: ${Messages.backupPostgres}`);
      expect(fs.existsSync(target)).toBe(false);
    }
  });
});
