import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Messages } from '../../server/errors.js';
import { generateEspImage } from '../support/esp-image-generator.js';
import { addGroup, deployTo, downloadPath, type Kind } from '../support/fleet.js';
import { download, request, startRegistry, type TestRegistry } from '../support/registry.js';
import { sha256 } from '../support/hashes.js';

describe.each(['device', 'group'] as const)('history and rollback of a %s', (kind: Kind) => {
  let registry: TestRegistry;
  let apiKey: string;
  let otherKey: string;
  const images = [1, 2, 3].map((seed) => generateEspImage({ seed: 40 + seed, size: 24 * 1024 }));

  beforeAll(async () => {
    registry = await startRegistry();
    apiKey = await registry.addUser();
    otherKey = await registry.addUser();
  });
  afterAll(() => registry.close());

  test('history lists kept versions newest first; rollback makes latest and download serve an older one', async () => {
    const target =
      kind === 'device' ? await registry.addDevice(apiKey) : await addGroup(registry, apiKey);
    for (const [i, version] of ['1.0.0', '1.1.0', '1.2.0'].entries()) {
      expect((await deployTo(registry, apiKey, kind, target, version, images[i])).status).toBe(201);
    }
    const base = `${registry.url}/v1/ota/${kind}/${target.id}`;
    const history = await request(`${base}/history`, { apiKey });
    expect(history.status).toBe(200);
    const body = history.body as { current: string; history: Array<Record<string, unknown>> };
    expect(body.current).toBe('1.2.0');
    expect(body.history.map((entry) => entry.version)).toEqual(['1.2.0', '1.1.0', '1.0.0']);
    expect(body.history[2]).toMatchObject({
      [kind]: target.id,
      size: images[0].length,
      sha256: sha256(images[0]),
      md5: expect.stringMatching(/^[0-9a-f]{32}$/),
      chip: 'esp32',
      last_updated: expect.stringMatching(/Z$/),
      current: false,
    });
    expect(body.history[0].current).toBe(true);

    const rolled = await request(`${base}/rollback`, {
      method: 'POST',
      apiKey,
      json: { version: '1.0.0' },
    });
    expect(rolled).toMatchObject({
      status: 200,
      body: { message: Messages.rolledBack('1.0.0'), ota: { version: '1.0.0' } },
    });
    expect((await request(`${registry.url}/v1/ota/${kind}/latest/${target.id}`)).body).toEqual({
      ver: '1.0.0',
    });
    const got = await download(`${registry.url}${downloadPath(kind, target)}`);
    expect(got.bytes.equals(images[0])).toBe(true);
    const after = (await request(`${base}/history`, { apiKey })).body as typeof body;
    expect(after.current).toBe('1.0.0');
    expect(after.history[0]).toMatchObject({ version: '1.0.0', current: true });

    // Forward again to a kept version works the same way.
    await request(`${base}/rollback`, { method: 'POST', apiKey, json: { version: '1.2.0' } });
    expect((await request(`${registry.url}/v1/ota/${kind}/latest/${target.id}`)).body).toEqual({
      ver: '1.2.0',
    });
  });

  test('an unknown version is 404 with a clear message; no version is 400; another owner is 404', async () => {
    const target =
      kind === 'device' ? await registry.addDevice(apiKey) : await addGroup(registry, apiKey);
    await deployTo(registry, apiKey, kind, target, '1.0.0', images[0]);
    const base = `${registry.url}/v1/ota/${kind}/${target.id}`;
    expect(
      await request(`${base}/rollback`, { method: 'POST', apiKey, json: { version: '0.9.0' } }),
    ).toMatchObject({ status: 404, body: { message: Messages.versionNotKept('0.9.0') } });
    expect(await request(`${base}/rollback`, { method: 'POST', apiKey, json: {} })).toMatchObject({
      status: 400,
      body: { message: Messages.mandatoryField('version') },
    });
    const missing = kind === 'device' ? Messages.noSuchDevice : Messages.noSuchGroup;
    expect(await request(`${base}/history`, { apiKey: otherKey })).toMatchObject({
      status: 404,
      body: { message: missing },
    });
    expect(
      await request(`${base}/rollback`, {
        method: 'POST',
        apiKey: otherKey,
        json: { version: '1.0.0' },
      }),
    ).toMatchObject({ status: 404, body: { message: missing } });
    expect((await request(`${base}/history`)).status).toBe(401);
  });

  test('history and rollback routes do not shadow latest and download', async () => {
    const target =
      kind === 'device' ? await registry.addDevice(apiKey) : await addGroup(registry, apiKey);
    await deployTo(registry, apiKey, kind, target, '2.0.0', images[1]);
    expect((await request(`${registry.url}/v1/ota/${kind}/latest/${target.id}`)).body).toEqual({
      ver: '2.0.0',
    });
    expect((await download(`${registry.url}${downloadPath(kind, target)}`)).status).toBe(200);
    expect((await request(`${registry.url}/v1/ota/${kind}/latest/history`)).status).toBe(404);
  });
});
