import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import { Messages } from '../../server/errors.js';
import { generateEspImage } from '../support/esp-image-generator.js';
import { addGroup, deployTo, downloadPath, setGroup } from '../support/fleet.js';
import {
  download,
  request,
  startRegistry,
  upload,
  type TestRegistry,
} from '../support/registry.js';

describe('/v1/groups and /v1/ota/group', () => {
  let registry: TestRegistry;
  let apiKey: string;
  let otherKey: string;
  const image = (seed: number) => generateEspImage({ seed, size: 32 * 1024 });

  beforeAll(async () => {
    registry = await startRegistry();
    apiKey = await registry.addUser();
    otherKey = await registry.addUser();
  });
  afterAll(() => registry.close());

  test('create shows a 16-character token once; get, list, rename and rotate', async () => {
    const created = await request(`${registry.url}/v1/groups`, {
      method: 'POST',
      apiKey,
      json: { name: 'greenhouse' },
    });
    expect(created.status).toBe(201);
    const body = created.body as Record<string, unknown>;
    expect(body).toMatchObject({ name: 'greenhouse', __v: 0, chip: null, version: null });
    expect(body.token).toMatch(/^[A-Za-z0-9]{16}$/);
    expect(body._id).toMatch(/^[0-9a-f]{24}$/);
    const id = body._id as string;

    const got = await request(`${registry.url}/v1/groups/${id}`, { apiKey });
    expect(got.status).toBe(200);
    expect(got.body).not.toHaveProperty('token');
    expect(JSON.stringify(got.body)).not.toContain(body.token as string);

    const list = await request(`${registry.url}/v1/groups?search_value=GREEN&draw=3`, { apiKey });
    expect(list.body).toMatchObject({ recordsFiltered: 1, draw: '3' });
    expect((list.body as { groups: unknown[] }).groups).toHaveLength(1);

    const renamed = await request(`${registry.url}/v1/groups/${id}`, {
      method: 'PUT',
      apiKey,
      json: { name: 'glasshouse' },
    });
    expect(renamed).toMatchObject({ status: 200, body: { name: 'glasshouse' } });
    expect(
      await request(`${registry.url}/v1/groups/${id}`, {
        method: 'PUT',
        apiKey,
        json: { name: '' },
      }),
    ).toMatchObject({ status: 400, body: { message: Messages.groupNameInvalid } });

    const rotated = await request(`${registry.url}/v1/groups/${id}/token`, {
      method: 'POST',
      apiKey,
    });
    const token = (rotated.body as { token: string }).token;
    expect(token).toMatch(/^[A-Za-z0-9]{16}$/);
    expect(token).not.toBe(body.token);
    await deployTo(registry, apiKey, 'group', { id, token }, '1.0.0', image(1));
    expect(
      (
        await download(
          `${registry.url}${downloadPath('group', { id, token: body.token as string })}`,
        )
      ).status,
    ).toBe(404);
    expect((await download(`${registry.url}${downloadPath('group', { id, token })}`)).status).toBe(
      200,
    );
  });

  test("another owner's group answers exactly like a missing one", async () => {
    const group = await addGroup(registry, apiKey, { name: 'mine' });
    const missing = '0123456789abcdef01234567';
    for (const id of [group.id, missing]) {
      for (const [method, suffix, json] of [
        ['GET', '', undefined],
        ['PUT', '', { name: 'x' }],
        ['DELETE', '', undefined],
        ['POST', '/token', undefined],
      ] as const) {
        const res = await request(`${registry.url}/v1/groups/${id}${suffix}`, {
          method,
          apiKey: otherKey,
          json,
        });
        expect(res).toMatchObject({ status: 404, body: { message: Messages.noSuchGroup } });
      }
    }
    const theirDevice = await registry.addDevice(otherKey);
    expect(await setGroup(registry, otherKey, theirDevice.id, group.id)).toMatchObject({
      status: 404,
      body: { message: Messages.noSuchGroup },
    });
    expect(await deployTo(registry, otherKey, 'group', group, '1.0.0', image(2))).toMatchObject({
      status: 404,
      body: { message: Messages.noSuchGroup },
    });
  });

  test('a group deploy reaches every member: both devices see it through the group latest and in their view', async () => {
    const group = await addGroup(registry, apiKey, { name: 'fleet' });
    const a = await registry.addDevice(apiKey, 'a');
    const b = await registry.addDevice(apiKey, 'b');
    expect(await setGroup(registry, apiKey, a.id, group.id)).toMatchObject({
      status: 200,
      body: { group: group.id },
    });
    expect((await setGroup(registry, apiKey, b.id, group.id)).status).toBe(200);

    expect(await request(`${registry.url}/v1/ota/group/latest/${group.id}`)).toMatchObject({
      status: 404,
      body: { message: Messages.noFirmwareAvailable },
    });
    const bytes = image(3);
    const res = await deployTo(registry, apiKey, 'group', group, '2.1.0', bytes);
    expect(res).toMatchObject({
      status: 201,
      body: { message: Messages.firmwareDeployed, ota: { group: group.id, version: '2.1.0' } },
    });

    // What IoTaaP OS in a group calls, once per device: the same answer, exactly {"ver"}.
    for (let i = 0; i < 2; i++) {
      const latest = await fetch(`${registry.url}/v1/ota/group/latest/${group.id}`);
      expect(latest.headers.get('cache-control')).toBe('no-store');
      expect(await latest.text()).toBe('{"ver":"2.1.0"}');
    }
    for (const device of [a, b]) {
      const view = await request(`${registry.url}/v1/devices/${device.id}`, { apiKey });
      expect(view.body).toMatchObject({ group: group.id, version: '2.1.0' });
    }
    const got = await download(`${registry.url}${downloadPath('group', group)}`);
    expect(got.status).toBe(200);
    expect(got.bytes.equals(bytes)).toBe(true);
    expect(got.headers.get('content-length')).toBe(String(bytes.length));

    const list = await request(`${registry.url}/v1/ota/group`, { apiKey });
    expect(list.body).toMatchObject({ recordsTotal: expect.any(Number) });
    const rows = (list.body as { otas: Array<Record<string, unknown>> }).otas;
    expect(rows.find((row) => row.group === group.id)).toMatchObject({
      version: '2.1.0',
      chip: 'esp32',
    });
    const listed = await request(`${registry.url}/v1/groups/${group.id}`, { apiKey });
    expect(listed.body).toMatchObject({ version: '2.1.0', chip: 'esp32', devices: 2 });
  });

  test('a device leaves with null or with IoTaaP\'s "undefined"', async () => {
    const group = await addGroup(registry, apiKey);
    const device = await registry.addDevice(apiKey);
    for (const leave of [null, 'undefined']) {
      await setGroup(registry, apiKey, device.id, group.id);
      const res = await setGroup(registry, apiKey, device.id, leave);
      expect(res.status).toBe(200);
      expect(res.body).not.toHaveProperty('group');
    }
    expect(await setGroup(registry, apiKey, device.id, 'nope')).toMatchObject({
      status: 400,
      body: { message: Messages.groupIdInvalid },
    });
  });

  test('group upload checks its fields like the device upload, with group and token', async () => {
    const group = await addGroup(registry, apiKey);
    const url = `${registry.url}/v1/ota/group`;
    const bytes = image(4);
    expect(await upload(url, apiKey, { token: 't', version: '1.0.0' }, [{ bytes }])).toMatchObject({
      status: 400,
      body: { message: Messages.mandatoryField('group') },
    });
    expect(
      await upload(url, apiKey, { group: 'xyz', token: 't', version: '1.0.0' }, [{ bytes }]),
    ).toMatchObject({ status: 400, body: { message: Messages.groupIdInvalid } });
    expect(
      await deployTo(
        registry,
        apiKey,
        'group',
        { id: group.id, token: 'wrongwrong' },
        '1.0.0',
        bytes,
      ),
    ).toMatchObject({ status: 403, body: { message: Messages.groupTokenInvalid } });
    expect(await deployTo(registry, apiKey, 'group', group, '1.0.0', bytes)).toMatchObject({
      status: 201,
    });
    expect(await deployTo(registry, apiKey, 'group', group, '1.0.0', bytes)).toMatchObject({
      status: 200,
      body: { message: Messages.firmwareAlreadyDeployed },
    });
    expect(
      (await download(`${registry.url}/v1/ota/group/download/${group.id}wrongtoken`)).status,
    ).toBe(404);
  });

  test('DELETE removes the group, its records and files; its devices stay, outside any group', async () => {
    const group = await addGroup(registry, apiKey);
    const device = await registry.addDevice(apiKey);
    await setGroup(registry, apiKey, device.id, group.id);
    await deployTo(registry, apiKey, 'group', group, '1.0.0', image(5));
    // On local files, the firmware's directory (in S3 the sweep removes objects later).
    const onDisk = registry.context.files.kind === 'local-files';
    const dir = path.join(registry.dataDir, 'ota', 'group', group.id);
    expect(fs.existsSync(dir)).toBe(onDisk);

    const res = await request(`${registry.url}/v1/groups/${group.id}`, {
      method: 'DELETE',
      apiKey,
    });
    expect(res).toMatchObject({ status: 200, body: { message: Messages.groupRemoved } });
    expect(fs.existsSync(dir)).toBe(false);
    const left = registry.context.db
      .prepare("SELECT count(*) AS n FROM otas WHERE target_kind = 'group' AND target_id = ?")
      .get(group.id) as { n: number };
    expect(left.n).toBe(0);
    const view = await request(`${registry.url}/v1/devices/${device.id}`, { apiKey });
    expect(view.status).toBe(200);
    expect(view.body).not.toHaveProperty('group');
    expect(await request(`${registry.url}/v1/ota/group/latest/${group.id}`)).toMatchObject({
      status: 404,
      body: { message: Messages.noSuchGroup },
    });
  });
});
