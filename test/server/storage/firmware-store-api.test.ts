/**
 * The upload and download API tests, run once more with firmware in S3 (s3rver on a loopback
 * port, through the real AWS SDK): every registry these files start stores firmware in the
 * bucket, under a prefix of its own, with its metadata in SQLite as usual.
 */
import { describe, expect, test } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import { Messages } from '../../../server/errors.js';
import { generateEspImage } from '../../support/esp-image-generator.js';
import { startServer } from '../../../server/app.js';
import { loadConfig } from '../../../server/config.js';
import { createContext } from '../../../server/context.js';
import { request, startRegistry, tempDataDir, upload } from '../../support/registry.js';
import { registriesOnS3, startS3 } from '../../support/s3.js';

registriesOnS3();
await import('../ota-device.test.js');
await import('../fleet-download.test.js');
await import('../upload-validation.test.js');

describe('firmware in S3: when the store fails', () => {
  test('these registries keep firmware in the bucket, none in the data directory', async () => {
    const registry = await startRegistry();
    try {
      expect(registry.context.files.kind).toBe('s3');
      const apiKey = await registry.addUser();
      const device = await registry.addDevice(apiKey);
      const res = await upload(
        `${registry.url}/v1/ota/device`,
        apiKey,
        { device: device.id, token: device.token, version: '1.0.0' },
        [{ bytes: generateEspImage({ seed: 3 }) }],
      );
      expect(res.status).toBe(201);
      // The API shows the same key as on local files.
      expect(res.body).toMatchObject({
        ota: { path: `ota/device/${device.id}/1.0.0/firmware.bin` },
      });
      expect(fs.existsSync(path.join(registry.dataDir, 'ota'))).toBe(false);
    } finally {
      await registry.close();
    }
  });

  test('an upload the bucket refuses is a 500 storage error; the old firmware stays current; tmp/ is empty', async () => {
    const s3 = await startS3('firmware-failing');
    const dataDir = tempDataDir();
    const config = loadConfig(
      { port: '0', host: '127.0.0.1', data: dataDir, 'no-request-log': true },
      s3.env(),
    );
    const context = createContext(config);
    const running = await startServer(context);
    try {
      const { apiKey } = await context.auth.addUser('s3-outage@example.com', 'user', null);
      const created = await request(`${running.url}/v1/devices`, {
        method: 'POST',
        apiKey,
        json: {},
      });
      const device = created.body as { _id: string; token: string };
      const deploy = (version: string, seed: number) =>
        upload(
          `${running.url}/v1/ota/device`,
          apiKey,
          { device: device._id, token: device.token, version },
          [{ bytes: generateEspImage({ seed }) }],
        );
      expect((await deploy('1.0.0', 1)).status).toBe(201);
      // The store goes away (an outage, a revoked permission, a deleted bucket).
      await s3.close();
      const res = await deploy('2.0.0', 2);
      expect(res).toMatchObject({
        status: 500,
        body: {
          message: Messages.uploadFailed,
          error: expect.stringMatching(/^storage error \(E[A-Z]+\)$/),
        },
      });
      expect((await request(`${running.url}/v1/ota/device/latest/${device._id}`)).body).toEqual({
        ver: '1.0.0',
      });
      expect(fs.readdirSync(path.join(dataDir, 'tmp'))).toEqual([]);
    } finally {
      await running.close();
    }
  });
});
