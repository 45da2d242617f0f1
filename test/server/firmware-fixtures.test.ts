import { expect, test } from '@jest/globals';
import { rawHttp10 } from '../support/http10.js';
import { describeIfFixtures, fixtureNames, readFixture } from '../support/fixtures.js';
import { download, startRegistryPerFile, upload, type TestRegistry } from '../support/registry.js';
import { md5 } from '../support/hashes.js';

/** Real ESP images other people built (../shared/fixtures/firmware, see SOURCES.md there). */
describeIfFixtures('real firmware images round-trip byte for byte', () => {
  let registry: TestRegistry;
  let apiKey: string;
  startRegistryPerFile((started, key) => ([registry, apiKey] = [started, key]));

  test('there are fixtures to test with', () => {
    expect(fixtureNames().length).toBeGreaterThanOrEqual(6);
  });

  test.each(fixtureNames())(
    '%s: upload, download, identical bytes, x-MD5, HTTP/1.0',
    async (name) => {
      const bytes = readFixture(name);
      const digest = md5(bytes);
      const device = await registry.addDevice(apiKey, name);
      const res = await upload(
        `${registry.url}/v1/ota/device`,
        apiKey,
        { device: device.id, token: device.token, version: '1.0.0' },
        [{ bytes, filename: name }],
      );
      expect(res.status).toBe(201);
      // None of them updates from a registry: the "no OTA client" case (docs/ota-client-guard.md).
      expect(res.body).toMatchObject({ ota: { size: bytes.length, md5: digest, ota_client: [] } });

      const got = await download(
        `${registry.url}/v1/ota/device/download/${device.id}${device.token}`,
      );
      expect(got.status).toBe(200);
      expect(got.bytes.equals(bytes)).toBe(true);
      expect(got.headers.get('x-md5')).toBe(digest);
      expect(got.headers.get('content-length')).toBe(String(bytes.length));

      const old = await rawHttp10(
        registry.url,
        `/v1/ota/device/download/${device.id}${device.token}`,
        {
          'User-Agent': 'ESP32-http-Update',
        },
      );
      expect(old.status).toBe(200);
      expect(old.headers['content-length']).toBe(String(bytes.length));
      expect(old.headers['transfer-encoding']).toBeUndefined();
      expect(old.headers['x-md5']).toBe(digest);
      expect(old.body.equals(bytes)).toBe(true);
    },
  );
});
