import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import { Messages } from '../../server/errors.js';
import { generateEspImage } from '../support/esp-image-generator.js';
import { rawHttp10 } from '../support/http10.js';
import {
  download,
  request,
  startRegistry,
  upload,
  type TestRegistry,
} from '../support/registry.js';
import { md5, sha256 } from '../support/hashes.js';

describe('device OTA endpoints', () => {
  let registry: TestRegistry;
  let apiKey: string;
  let device: { id: string; token: string };
  const v1 = generateEspImage({ seed: 10, size: 48 * 1024 });

  const uploadUrl = () => `${registry.url}/v1/ota/device`;
  const deploy = (version: string, bytes: Buffer, target = device, key = apiKey) =>
    upload(uploadUrl(), key, { device: target.id, token: target.token, version }, [{ bytes }]);

  beforeAll(async () => {
    registry = await startRegistry({ history: '3' });
    apiKey = await registry.addUser();
    device = await registry.addDevice(apiKey, 'bench');
  });
  afterAll(() => registry.close());

  test('a device with no firmware yet: latest is 404 No firmware available, download too', async () => {
    const fresh = await registry.addDevice(apiKey);
    expect(await request(`${registry.url}/v1/ota/device/latest/${fresh.id}`)).toMatchObject({
      status: 404,
      body: { message: Messages.noFirmwareAvailable },
    });
    expect(
      (await download(`${registry.url}/v1/ota/device/download/${fresh.id}${fresh.token}`)).status,
    ).toBe(404);
  });

  test('upload → 201; latest answers exactly {"ver"} with no-store; download serves the bytes', async () => {
    const res = await deploy('1.0.0', v1);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      message: Messages.firmwareDeployed,
      ota: {
        device: device.id,
        version: '1.0.0',
        size: v1.length,
        sha256: sha256(v1),
        md5: md5(v1),
        __v: 0,
      },
    });

    const latest = await fetch(`${registry.url}/v1/ota/device/latest/${device.id}`);
    expect(latest.status).toBe(200);
    expect(latest.headers.get('content-type')).toMatch(/^application\/json/);
    expect(latest.headers.get('cache-control')).toBe('no-store');
    expect(await latest.text()).toBe('{"ver":"1.0.0"}');

    const got = await download(
      `${registry.url}/v1/ota/device/download/${device.id}${device.token}`,
    );
    expect(got.status).toBe(200);
    expect(got.bytes.equals(v1)).toBe(true);
    expect(got.headers.get('content-type')).toBe('application/octet-stream');
    expect(got.headers.get('content-length')).toBe(String(v1.length));
    expect(got.headers.get('content-disposition')).toBe('attachment; filename="firmware.bin"');
    expect(got.headers.get('etag')).toBe(`"${sha256(v1)}"`);
    expect(got.headers.get('x-md5')).toBe(md5(v1));
    expect(got.headers.get('transfer-encoding')).toBeNull();
  });

  test('HEAD on download gives the same headers, exact Content-Length, no body', async () => {
    const res = await fetch(`${registry.url}/v1/ota/device/download/${device.id}${device.token}`, {
      method: 'HEAD',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(v1.length));
    expect(res.headers.get('x-md5')).toBe(md5(v1));
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });

  test('an HTTP/1.0 download gets Content-Length and no chunked encoding', async () => {
    const { headers, body } = await rawHttp10(
      registry.url,
      `/v1/ota/device/download/${device.id}${device.token}`,
    );
    expect(headers['content-length']).toBe(String(v1.length));
    expect(headers['transfer-encoding']).toBeUndefined();
    expect(body.equals(v1)).toBe(true);
  });

  test('wrong id and wrong token are the same 404 No such device', async () => {
    const other = await registry.addDevice(apiKey);
    const answers = await Promise.all(
      [
        `${device.id}WRONGTOKEN123456`,
        `${device.id}`,
        `${other.id}${device.token}`,
        `0123456789abcdef01234567${device.token}`,
        `short`,
      ].map((suffix) => request(`${registry.url}/v1/ota/device/download/${suffix}`)),
    );
    for (const answer of answers)
      expect(answer).toMatchObject({ status: 404, body: { message: Messages.noSuchDevice } });
  });

  test.each([
    '0123456789abcdef01234567',
    'ABCDEF0123456789ABCDEF01',
    'nope',
    '..%2F..%2Fetc%2Fpasswd',
  ])('latest for unknown or malformed id %p is 404 No such device', async (id) => {
    expect(await request(`${registry.url}/v1/ota/device/latest/${id}`)).toMatchObject({
      status: 404,
      body: { message: Messages.noSuchDevice },
    });
  });

  test('the same version again: identical bytes → 200 already deployed, different bytes → 409', async () => {
    const same = await deploy('1.0.0', v1);
    expect(same).toMatchObject({
      status: 200,
      body: { message: Messages.firmwareAlreadyDeployed },
    });
    const different = await deploy('1.0.0', generateEspImage({ seed: 11 }));
    expect(different).toMatchObject({
      status: 409,
      body: { message: Messages.versionConflict('1.0.0') },
    });
    expect(await (await fetch(`${registry.url}/v1/ota/device/latest/${device.id}`)).text()).toBe(
      '{"ver":"1.0.0"}',
    );
  });

  test('history keeps the configured number of versions and deletes the files of older ones', async () => {
    // Looks at the data directory's files; on S3, test/server/storage/firmware-store.test.ts.
    if (registry.context.files.kind !== 'local-files') return;
    const target = await registry.addDevice(apiKey);
    const versions = ['1.0.0', '1.1.0', '1.2.0', '2.0.0-rc.1', '2.0.0'];
    for (const [i, version] of versions.entries()) {
      expect((await deploy(version, generateEspImage({ seed: 100 + i }), target)).status).toBe(201);
    }
    const dir = path.join(registry.dataDir, 'ota', 'device', target.id);
    expect(fs.readdirSync(dir).sort()).toEqual(['1.2.0', '2.0.0', '2.0.0-rc.1']);
    const kept = registry.context.db
      .prepare('SELECT version FROM otas WHERE target_id = ? ORDER BY last_updated')
      .all(target.id) as Array<{ version: string }>;
    expect(kept.map((row) => row.version)).toEqual(['1.2.0', '2.0.0-rc.1', '2.0.0']);
    // A version still in history with the same bytes is served again; with other bytes it is a conflict.
    expect((await deploy('1.2.0', generateEspImage({ seed: 102 }), target)).status).toBe(201);
    expect(await (await fetch(`${registry.url}/v1/ota/device/latest/${target.id}`)).text()).toBe(
      '{"ver":"1.2.0"}',
    );
    expect((await deploy('2.0.0', generateEspImage({ seed: 999 }), target)).status).toBe(409);
  });

  test('GET /v1/ota/device lists one row per device, newest first, with search and paging', async () => {
    const owner = await registry.addUser();
    const a = await registry.addDevice(owner, 'pump_house');
    const b = await registry.addDevice(owner, 'barn 50%');
    await registry.addDevice(owner, 'never flashed');
    await deploy('1.0.0', generateEspImage({ seed: 20 }), a, owner);
    await deploy('1.1.0', generateEspImage({ seed: 21 }), a, owner);
    await deploy('3.0.0', generateEspImage({ seed: 22 }), b, owner);

    const list = await request(`${registry.url}/v1/ota/device?draw=2`, { apiKey: owner });
    const body = list.body as {
      otas: Array<Record<string, unknown>>;
      recordsTotal: number;
      recordsFiltered: number;
      draw: string;
    };
    expect(list.status).toBe(200);
    expect(body).toMatchObject({ recordsTotal: 2, recordsFiltered: 2, draw: '2' });
    expect(body.otas.map((o) => [o.device, o.version])).toEqual([
      [b.id, '3.0.0'],
      [a.id, '1.1.0'],
    ]);
    expect(Object.keys(body.otas[0]).sort()).toEqual(
      expect.arrayContaining(['_id', 'device', '__v', 'last_updated', 'owner', 'path', 'version']),
    );
    expect(body.otas[0].path).toBe(`ota/device/${b.id}/3.0.0/firmware.bin`);
    expect(JSON.stringify(body)).not.toContain(b.token);

    const asc = await request(`${registry.url}/v1/ota/device?order_dir=asc&limit=1`, {
      apiKey: owner,
    });
    expect((asc.body as typeof body).otas.map((o) => o.version)).toEqual(['1.1.0']);
    const offset = await request(`${registry.url}/v1/ota/device?offset=1`, { apiKey: owner });
    expect((offset.body as typeof body).otas.map((o) => o.version)).toEqual(['1.1.0']);

    const search = async (value: string) =>
      (
        await request(`${registry.url}/v1/ota/device?search_value=${encodeURIComponent(value)}`, {
          apiKey: owner,
        })
      ).body as typeof body;
    expect((await search('3.0')).otas.map((o) => o.version)).toEqual(['3.0.0']);
    expect((await search('PUMP')).otas.map((o) => o.version)).toEqual(['1.1.0']);
    expect((await search(a.id.slice(-8))).otas.map((o) => o.version)).toEqual(['1.1.0']);
    expect((await search('%')).otas.map((o) => o.version)).toEqual(['3.0.0']);
    expect((await search('_')).otas.map((o) => o.version)).toEqual(['1.1.0']);
    expect(await search("'")).toMatchObject({ otas: [], recordsTotal: 2, recordsFiltered: 0 });
    expect(await search('"')).toMatchObject({ otas: [], recordsFiltered: 0 });

    const other = await registry.addUser();
    expect(await request(`${registry.url}/v1/ota/device`, { apiKey: other })).toMatchObject({
      status: 200,
      body: { otas: [], recordsTotal: 0, recordsFiltered: 0 },
    });
  });

  test('a storage failure is a 500 Error when uploading firmware file; the old firmware stays served', async () => {
    // Blocks a directory of the data directory; on S3, test/server/storage/firmware-store-api.test.ts.
    if (registry.context.files.kind !== 'local-files') return;
    const target = await registry.addDevice(apiKey);
    const old = generateEspImage({ seed: 500 });
    expect((await deploy('1.0.0', old, target)).status).toBe(201);
    // A plain file where the new version's directory must go: the commit cannot create it.
    fs.writeFileSync(
      path.join(registry.dataDir, 'ota', 'device', target.id, '2.0.0'),
      'in the way',
    );
    const res = await deploy('2.0.0', generateEspImage({ seed: 501 }), target);
    expect(res).toMatchObject({
      status: 500,
      body: {
        message: Messages.uploadFailed,
        error: expect.stringMatching(/^storage error \(E[A-Z]+\)$/),
      },
    });
    expect(JSON.stringify(res.body)).not.toContain(registry.dataDir);
    expect((await request(`${registry.url}/v1/ota/device/latest/${target.id}`)).body).toEqual({
      ver: '1.0.0',
    });
    const got = await download(
      `${registry.url}/v1/ota/device/download/${target.id}${target.token}`,
    );
    expect(got.bytes.equals(old)).toBe(true);
    expect(fs.readdirSync(path.join(registry.dataDir, 'tmp'))).toEqual([]);
  });

  test('a file system update (x-ESP32-mode: spiffs) is refused, never served the application image', async () => {
    const modes: Array<Record<string, string>> = [
      { 'x-ESP32-mode': 'spiffs' },
      { 'x-ESP8266-mode': 'spiffs' },
    ];
    for (const headers of modes) {
      const res = await request(
        `${registry.url}/v1/ota/device/download/${device.id}${device.token}`,
        { headers },
      );
      expect(res).toMatchObject({
        status: 400,
        body: { message: Messages.onlySketchImages('spiffs') },
      });
    }
    const sketch = await download(
      `${registry.url}/v1/ota/device/download/${device.id}${device.token}`,
      {
        'x-ESP32-mode': 'sketch',
      },
    );
    expect(sketch.status).toBe(200);
  });

  test('GET /healthz answers ok', async () => {
    expect(await request(`${registry.url}/healthz`)).toMatchObject({
      status: 200,
      body: { status: 'ok' },
    });
  });

  test('an unknown path is a JSON 404, a wrong method a JSON 405', async () => {
    expect(await request(`${registry.url}/v2/nothing`)).toMatchObject({
      status: 404,
      body: { message: Messages.notFound },
    });
    const res = await request(`${registry.url}/v1/ota/device/latest/${device.id}`, {
      method: 'DELETE',
    });
    expect(res.status).toBe(405);
    expect(res.body).toEqual({ message: expect.any(String) });
  });

  test('two concurrent uploads to one device end consistent: latest names the bytes download returns', async () => {
    for (let round = 0; round < 5; round++) {
      const target = await registry.addDevice(apiKey);
      const images = ['1.0.0', '2.0.0'].map((version, i) => ({
        version,
        bytes: generateEspImage({ seed: 300 + round * 2 + i, size: 256 * 1024 }),
      }));
      const results = await Promise.all(
        images.map(({ version, bytes }) => deploy(version, bytes, target)),
      );
      expect(results.map((r) => r.status)).toEqual([201, 201]);
      const ver = (
        (await request(`${registry.url}/v1/ota/device/latest/${target.id}`)).body as { ver: string }
      ).ver;
      const got = await download(
        `${registry.url}/v1/ota/device/download/${target.id}${target.token}`,
      );
      expect(got.bytes.equals(images.find((image) => image.version === ver)!.bytes)).toBe(true);
      expect(got.headers.get('x-md5')).toBe(md5(got.bytes));
    }
  });

  test('concurrent uploads of one version with different bytes: one wins, the other is 409', async () => {
    const target = await registry.addDevice(apiKey);
    const images = [generateEspImage({ seed: 400 }), generateEspImage({ seed: 401 })];
    const results = await Promise.all(images.map((bytes) => deploy('5.0.0', bytes, target)));
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    const winner = images[results.findIndex((r) => r.status === 201)];
    const got = await download(
      `${registry.url}/v1/ota/device/download/${target.id}${target.token}`,
    );
    expect(got.bytes.equals(winner)).toBe(true);
  });
});
