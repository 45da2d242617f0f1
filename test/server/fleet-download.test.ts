import { beforeAll, describe, expect, test } from '@jest/globals';
import { generateEspImage } from '../support/esp-image-generator.js';
import {
  addGroup,
  deployTo,
  downloadPath,
  esp32UpdaterHeaders,
  esp8266UpdaterHeaders,
  type IdAndToken,
  type Kind,
} from '../support/fleet.js';
import { rawHttp10 } from '../support/http10.js';
import { describeIfFixtures, readFixture } from '../support/fixtures.js';
import { download, startRegistryPerFile, type TestRegistry } from '../support/registry.js';
import { md5, sha256 } from '../support/hashes.js';

let registry: TestRegistry;
let apiKey: string;
startRegistryPerFile((started, key) => ([registry, apiKey] = [started, key]));

/** Each kind of download URL (device and group) gets the same rules. */
async function servedTarget(kind: Kind, bytes: Buffer, version: string): Promise<IdAndToken> {
  const target =
    kind === 'device' ? await registry.addDevice(apiKey) : await addGroup(registry, apiKey);
  const res = await deployTo(registry, apiKey, kind, target, version, bytes);
  if (res.status !== 201) throw new Error(`deploy: ${res.status} ${JSON.stringify(res.body)}`);
  return target;
}

describe.each(['device', 'group'] as const)(
  'stock Arduino updater on the %s download URL',
  (kind) => {
    const bytes = generateEspImage({ seed: kind === 'device' ? 21 : 22, size: 40 * 1024 });
    const older = generateEspImage({ seed: 23, size: 40 * 1024 });
    let target: IdAndToken;
    let url: string;
    beforeAll(async () => {
      target = await servedTarget(kind, bytes, '1.4.0');
      url = `${registry.url}${downloadPath(kind, target)}`;
    });

    test.each([
      ['x-ESP32-version', '1.4.0'],
      ['x-ESP8266-version', '1.4.0'],
    ])('304 with an empty body when %s is the served version', async (header, value) => {
      const res = await download(url, { [header]: value });
      expect(res.status).toBe(304);
      expect(res.bytes.length).toBe(0);
    });

    test.each([
      ['x-ESP32-sketch-md5', 'lowercase', (h: string) => h.toLowerCase()],
      ['x-ESP32-sketch-md5', 'uppercase', (h: string) => h.toUpperCase()],
      ['x-ESP8266-sketch-md5', 'lowercase', (h: string) => h.toLowerCase()],
      ['x-ESP8266-sketch-md5', 'uppercase', (h: string) => h.toUpperCase()],
    ])(
      '304 when %s (%s) is the MD5 of the served file, whatever version it claims',
      async (header, _case, spell) => {
        const res = await download(url, {
          [header]: spell(md5(bytes)),
          'x-ESP32-version': '0.0.1',
        });
        expect(res.status).toBe(304);
        expect(res.bytes.length).toBe(0);
      },
    );

    test('200 with the bytes when version and MD5 differ', async () => {
      const res = await download(url, esp32UpdaterHeaders({ md5: md5(older), version: '1.3.0' }));
      expect(res.status).toBe(200);
      expect(res.bytes.equals(bytes)).toBe(true);
      expect(res.headers.get('x-md5')).toBe(md5(bytes));
      const esp8266 = await download(url, esp8266UpdaterHeaders({ md5: md5(older) }));
      expect(esp8266.status).toBe(200);
    });

    test('If-None-Match with the ETag → 304; another ETag → 200', async () => {
      const first = await download(url);
      const etag = first.headers.get('etag')!;
      expect(etag).toBe(`"${sha256(bytes)}"`);
      expect((await download(url, { 'If-None-Match': etag })).status).toBe(304);
      expect((await download(url, { 'If-None-Match': `"x", W/${etag}` })).status).toBe(304);
      expect((await download(url, { 'If-None-Match': '"other"' })).status).toBe(200);
    });

    test('an HTTP/1.0 request with the headers an ESP32 sends: exact Content-Length, x-MD5 of the body', async () => {
      const path = downloadPath(kind, target);
      const res = await rawHttp10(registry.url, path, esp32UpdaterHeaders({ md5: md5(older) }));
      expect(res.status).toBe(200);
      expect(res.headers['transfer-encoding']).toBeUndefined();
      expect(Number(res.headers['content-length'])).toBe(res.body.length);
      expect(res.body.length).toBe(bytes.length);
      expect(res.headers['x-md5']).toBe(md5(res.body));
      expect(res.body[0]).toBe(0xe9);

      const same = await rawHttp10(
        registry.url,
        path,
        esp32UpdaterHeaders({ md5: md5(bytes).toUpperCase() }),
      );
      expect(same.status).toBe(304);
      expect(same.body.length).toBe(0);
    });

    test('Range: 206 with Content-Range; suffix ranges; 416 past the end; several ranges → 200', async () => {
      const part = await download(url, { Range: 'bytes=100-199' });
      expect(part.status).toBe(206);
      expect(part.headers.get('content-range')).toBe(`bytes 100-199/${bytes.length}`);
      expect(part.headers.get('content-length')).toBe('100');
      expect(part.bytes.equals(bytes.subarray(100, 200))).toBe(true);

      const tail = await download(url, { Range: 'bytes=-10' });
      expect(tail.status).toBe(206);
      expect(tail.bytes.equals(bytes.subarray(bytes.length - 10))).toBe(true);

      const past = await download(url, { Range: `bytes=${bytes.length}-` });
      expect(past.status).toBe(416);
      expect(past.headers.get('content-range')).toBe(`bytes */${bytes.length}`);
      expect(JSON.parse(past.bytes.toString())).toHaveProperty('message');

      const several = await download(url, { Range: 'bytes=0-9,20-29' });
      expect(several.status).toBe(200);
      expect(several.bytes.equals(bytes)).toBe(true);

      const stale = await download(url, { Range: 'bytes=0-9', 'If-Range': '"stale"' });
      expect(stale.status).toBe(200);
    });
  },
);

describeIfFixtures('resumable downloads of a real image', () => {
  test('Range requests reassemble into the identical file', async () => {
    const bytes = readFixture('esp32-arduino-tamapetchi.bin');
    const device = await servedTarget('device', bytes, '3.0.0');
    const url = `${registry.url}${downloadPath('device', device)}`;
    const chunk = 256 * 1024;
    const parts: Buffer[] = [];
    for (let start = 0; start < bytes.length; start += chunk) {
      const end = Math.min(start + chunk, bytes.length) - 1;
      const res = await download(url, { Range: `bytes=${start}-${end}` });
      expect(res.status).toBe(206);
      expect(res.headers.get('content-range')).toBe(`bytes ${start}-${end}/${bytes.length}`);
      parts.push(res.bytes);
    }
    const joined = Buffer.concat(parts);
    expect(joined.length).toBe(bytes.length);
    expect(sha256(joined)).toBe(sha256(bytes));
  });
});
