import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import { Messages } from '../../server/errors.js';
import { generateEspImage } from '../support/esp-image-generator.js';
import { request, startRegistry, upload, type TestRegistry } from '../support/registry.js';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('/v1/devices', () => {
  let registry: TestRegistry;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    registry = await startRegistry();
    alice = await registry.addUser();
    bob = await registry.addUser();
  });
  afterAll(() => registry.close());

  test('POST creates a device and shows its 16-character token once, flat', async () => {
    const res = await request(`${registry.url}/v1/devices`, {
      method: 'POST',
      apiKey: alice,
      json: { name: 'Kitchen' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      _id: expect.stringMatching(/^[0-9a-f]{24}$/),
      name: 'Kitchen',
      owner: expect.stringMatching(/^[0-9a-f]{24}$/),
      created_at: expect.stringMatching(ISO),
      last_contact: null,
      __v: 0,
      token: expect.stringMatching(/^[A-Za-z0-9]{16}$/),
    });
    const { _id } = res.body as { _id: string };
    const got = await request(`${registry.url}/v1/devices/${_id}`, { apiKey: alice });
    expect(got.status).toBe(200);
    expect(got.body).not.toHaveProperty('token');
    expect(JSON.stringify(got.body)).not.toMatch(/token/);
  });

  test("GET lists only the caller's devices, with paging, search and draw", async () => {
    const owner = await registry.addUser();
    for (const name of ['alpha 100%', 'beta_1', "gamma's", 'delta "q"'])
      await registry.addDevice(owner, name);
    await registry.addDevice(bob, 'alpha of bob');

    const all = await request(`${registry.url}/v1/devices?draw=7&order_dir=asc`, { apiKey: owner });
    expect(all.status).toBe(200);
    const body = all.body as {
      devices: Array<{ name: string }>;
      recordsTotal: number;
      recordsFiltered: number;
      draw: string;
    };
    expect(body.devices.map((d) => d.name)).toEqual([
      'alpha 100%',
      'beta_1',
      "gamma's",
      'delta "q"',
    ]);
    expect(body).toMatchObject({ recordsTotal: 4, recordsFiltered: 4, draw: '7' });

    const page = await request(`${registry.url}/v1/devices?limit=2&offset=1&order_dir=asc`, {
      apiKey: owner,
    });
    expect((page.body as typeof body).devices.map((d) => d.name)).toEqual(['beta_1', "gamma's"]);

    const search = async (value: string) =>
      (
        await request(`${registry.url}/v1/devices?search_value=${encodeURIComponent(value)}`, {
          apiKey: owner,
        })
      ).body as typeof body;
    expect((await search('ALPHA')).devices.map((d) => d.name)).toEqual(['alpha 100%']);
    expect((await search('%')).devices.map((d) => d.name)).toEqual(['alpha 100%']);
    expect((await search('_')).devices.map((d) => d.name)).toEqual(['beta_1']);
    expect((await search("'")).devices.map((d) => d.name)).toEqual(["gamma's"]);
    expect((await search('"')).devices.map((d) => d.name)).toEqual(['delta "q"']);
    expect(await search('zzz')).toMatchObject({ devices: [], recordsTotal: 4, recordsFiltered: 0 });
  });

  test('PUT renames; POST /token rotates the token and the old one stops working', async () => {
    const { id, token } = await registry.addDevice(alice, 'old name');
    const renamed = await request(`${registry.url}/v1/devices/${id}`, {
      method: 'PUT',
      apiKey: alice,
      json: { name: 'new name' },
    });
    expect(renamed).toMatchObject({ status: 200, body: { _id: id, name: 'new name' } });
    const badName = await request(`${registry.url}/v1/devices/${id}`, {
      method: 'PUT',
      apiKey: alice,
      json: { name: 42 },
    });
    expect(badName).toMatchObject({ status: 400, body: { message: Messages.deviceNameInvalid } });

    const image = generateEspImage({ seed: 1 });
    expect(
      (
        await upload(
          `${registry.url}/v1/ota/device`,
          alice,
          { device: id, token, version: '1.0.0' },
          [{ bytes: image }],
        )
      ).status,
    ).toBe(201);
    const rotated = await request(`${registry.url}/v1/devices/${id}/token`, {
      method: 'POST',
      apiKey: alice,
    });
    expect(rotated.status).toBe(200);
    const newToken = (rotated.body as { token: string }).token;
    expect(newToken).toMatch(/^[A-Za-z0-9]{16}$/);
    expect((await fetch(`${registry.url}/v1/ota/device/download/${id}${token}`)).status).toBe(404);
    expect((await fetch(`${registry.url}/v1/ota/device/download/${id}${newToken}`)).status).toBe(
      200,
    );
  });

  test('DELETE removes the device, its records and its firmware files', async () => {
    const { id, token } = await registry.addDevice(alice);
    const image = generateEspImage({ seed: 2 });
    await upload(`${registry.url}/v1/ota/device`, alice, { device: id, token, version: '1.0.0' }, [
      { bytes: image },
    ]);
    // On local files, the firmware's directory; in S3 (storage/postgres-api.test.ts), the
    // objects outlive the records until the sweep, which firmware-store.test.ts covers.
    const onDisk = registry.context.files.kind === 'local-files';
    const dir = path.join(registry.dataDir, 'ota', 'device', id);
    expect(fs.existsSync(dir)).toBe(onDisk);

    const res = await request(`${registry.url}/v1/devices/${id}`, {
      method: 'DELETE',
      apiKey: alice,
    });
    expect(res).toMatchObject({ status: 200, body: { message: Messages.deviceRemoved } });
    expect(fs.existsSync(dir)).toBe(false);
    expect((await request(`${registry.url}/v1/devices/${id}`, { apiKey: alice })).status).toBe(404);
    expect((await request(`${registry.url}/v1/ota/device/latest/${id}`)).status).toBe(404);
    const left = registry.context.db
      .prepare('SELECT count(*) AS n FROM otas WHERE target_id = ?')
      .get(id) as { n: number };
    expect(left.n).toBe(0);
  });

  test("another owner's device answers exactly like a missing one", async () => {
    const { id } = await registry.addDevice(alice);
    const missing = '0123456789abcdef01234567';
    for (const [method, suffix, json] of [
      ['GET', '', undefined],
      ['PUT', '', { name: 'x' }],
      ['DELETE', '', undefined],
      ['POST', '/token', undefined],
    ] as const) {
      const theirs = await request(`${registry.url}/v1/devices/${id}${suffix}`, {
        method,
        apiKey: bob,
        json,
      });
      const none = await request(`${registry.url}/v1/devices/${missing}${suffix}`, {
        method,
        apiKey: bob,
        json,
      });
      expect(theirs).toMatchObject({ status: 404, body: { message: Messages.noSuchDevice } });
      expect(theirs.body).toEqual(none.body);
    }
    expect((await request(`${registry.url}/v1/devices/${id}`, { apiKey: alice })).status).toBe(200);
  });

  test.each(['../../etc/passwd', 'ABCDEF0123456789ABCDEF01', 'short'])(
    'a malformed id %p is 404',
    async (id) => {
      const res = await request(`${registry.url}/v1/devices/${encodeURIComponent(id)}`, {
        apiKey: alice,
      });
      expect(res).toMatchObject({ status: 404, body: { message: Messages.noSuchDevice } });
    },
  );

  test.each([
    ['limit=-1', 'limit'],
    ['limit=abc', 'limit'],
    ['limit=100000', 'limit'],
    ['offset=-5', 'offset'],
    ['offset=1e3', 'offset'],
    ['order_dir=sideways', 'order_dir'],
  ])('a malformed query %s is a 400 naming %s', async (query, parameter) => {
    const res = await request(`${registry.url}/v1/devices?${query}`, { apiKey: alice });
    expect(res.status).toBe(400);
    expect((res.body as { message: string }).message).toContain(parameter);
  });
});
