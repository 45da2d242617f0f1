import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { startServer } from '../../server/app.js';
import { createContext } from '../../server/context.js';
import { generateEspImage } from '../support/esp-image-generator.js';
import {
  addGroup,
  deployTo,
  downloadPath,
  esp32UpdaterHeaders,
  setGroup,
} from '../support/fleet.js';
import { download, request, startRegistry, type TestRegistry } from '../support/registry.js';
import { md5 } from '../support/hashes.js';

describe('device check-ins', () => {
  let registry: TestRegistry;
  let apiKey: string;
  const v1 = generateEspImage({ seed: 31, size: 32 * 1024 });
  const v2 = generateEspImage({ seed: 32, size: 32 * 1024 });

  beforeAll(async () => {
    registry = await startRegistry();
    apiKey = await registry.addUser();
  });
  afterAll(() => registry.close());

  const view = async (id: string) =>
    (await request(`${registry.url}/v1/devices/${id}`, { apiKey })).body as Record<
      string,
      string | number | null
    >;

  /** A group and a member of it, each served its own firmware. */
  const groupWithMember = async (
    [deviceVersion, deviceBytes]: [string, Buffer],
    [groupVersion, groupBytes]: [string, Buffer],
  ) => {
    const group = await addGroup(registry, apiKey);
    const device = await registry.addDevice(apiKey);
    await setGroup(registry, apiKey, device.id, group.id);
    await deployTo(registry, apiKey, 'device', device, deviceVersion, deviceBytes);
    await deployTo(registry, apiKey, 'group', group, groupVersion, groupBytes);
    return { group, device };
  };

  test('latest and download record last contact, what the device runs, MAC, free space, SDK', async () => {
    const device = await registry.addDevice(apiKey);
    expect(await view(device.id)).toMatchObject({
      last_contact: null,
      running_version: null,
      update_state: 'unknown',
    });
    await deployTo(registry, apiKey, 'device', device, '1.0.0', v1);
    await deployTo(registry, apiKey, 'device', device, '1.1.0', v2);

    // IoTaaP OS's check: no headers, only the contact.
    await request(`${registry.url}/v1/ota/device/latest/${device.id}`);
    const checked = await view(device.id);
    expect(checked.last_contact).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(checked).toMatchObject({
      running_version: null,
      update_state: 'unknown',
      version: '1.1.0',
    });

    // The updater reports the MD5 of what it runs: v1's bytes, whatever version it claims.
    const url = `${registry.url}${downloadPath('device', device)}`;
    const headers = esp32UpdaterHeaders({ md5: md5(v1).toUpperCase(), mac: '24:0a:c4:aa:bb:cc' });
    expect((await download(url, headers)).status).toBe(200);
    expect(await view(device.id)).toMatchObject({
      running_version: '1.0.0',
      update_state: 'pending',
      mac: '24:0A:C4:AA:BB:CC',
      free_space: 1966080,
      sdk_version: 'v4.4.7-dirty',
    });

    // After the update it runs v2's bytes: 304, and up to date.
    expect((await download(url, esp32UpdaterHeaders({ md5: md5(v2) }))).status).toBe(304);
    expect(await view(device.id)).toMatchObject({
      running_version: '1.1.0',
      update_state: 'up-to-date',
    });

    // An unknown MD5 falls back to the version header.
    await download(url, esp32UpdaterHeaders({ md5: 'f'.repeat(32), version: '0.9.0' }));
    expect(await view(device.id)).toMatchObject({
      running_version: '0.9.0',
      update_state: 'pending',
    });
    const list = await request(`${registry.url}/v1/devices`, { apiKey });
    const rows = (list.body as { devices: Array<Record<string, unknown>> }).devices;
    expect(rows.find((row) => row._id === device.id)).toMatchObject({
      running_version: '0.9.0',
      update_state: 'pending',
    });

    // The MAC stays when a check-in carries none and changes when one carries another.
    expect(await view(device.id)).toMatchObject({ mac: '24:0A:C4:12:34:56' });
    await request(`${registry.url}/v1/ota/device/latest/${device.id}`);
    expect(await view(device.id)).toMatchObject({ mac: '24:0A:C4:12:34:56' });
    await download(url, esp32UpdaterHeaders({ md5: md5(v2), mac: '24:0a:c4:00:00:01' }));
    expect(await view(device.id)).toMatchObject({ mac: '24:0A:C4:00:00:01' });
  });

  test('a group download is recorded for the member that reported the same station MAC', async () => {
    const { group, device } = await groupWithMember(['0.1.0', v1], ['5.0.0', v2]);
    const mac = '24:0A:C4:00:00:42';
    // Its own URL first, so the registry learns its MAC.
    await download(
      `${registry.url}${downloadPath('device', device)}`,
      esp32UpdaterHeaders({ md5: md5(v1), mac }),
    );
    expect(await view(device.id)).toMatchObject({ mac, version: '5.0.0', update_state: 'pending' });

    const res = await download(
      `${registry.url}${downloadPath('group', group)}`,
      esp32UpdaterHeaders({ md5: md5(v2), mac }),
    );
    expect(res.status).toBe(304);
    expect(await view(device.id)).toMatchObject({
      running_version: '5.0.0',
      update_state: 'up-to-date',
    });
  });

  test('latest carries no secret: whatever its headers, it changes last_contact and nothing else', async () => {
    const { group, device } = await groupWithMember(['2.0.0', v1], ['2.0.0', v1]);
    const mac = '24:0A:C4:00:00:77';
    // The device's own download (it carries the token) reports what it runs.
    await download(
      `${registry.url}${downloadPath('device', device)}`,
      esp32UpdaterHeaders({ md5: 'e'.repeat(32), version: '1.0.0', mac }),
    );
    const before = await view(device.id);
    expect(before).toMatchObject({ running_version: '1.0.0', update_state: 'pending', mac });

    // A stranger who knows the ids (another owner, or nobody) claims the device is up to date.
    const forged = {
      ...esp32UpdaterHeaders({ md5: md5(v1), version: '2.0.0', mac }),
      'x-ESP32-sdk-version': 'forged-sdk',
      'x-ESP32-free-space': '1',
    };
    const forgedMac = { ...forged, 'x-ESP32-STA-MAC': '02:00:00:00:00:01' };
    await new Promise((resolve) => setTimeout(resolve, 5));
    for (const [path, headers] of [
      [`/v1/ota/device/latest/${device.id}`, forgedMac],
      [`/V1/OTA/DEVICE/LATEST/${device.id}`, forgedMac],
      [`/v1/ota/group/latest/${group.id}`, forged],
    ] as const) {
      expect((await request(`${registry.url}${path}`, { headers })).body).toEqual({ ver: '2.0.0' });
    }
    const after = await view(device.id);
    expect(after).toEqual({ ...before, last_contact: expect.any(String) });
    expect(after.last_contact! > before.last_contact!).toBe(true);
  });

  test('no database write on the request: check-ins wait in memory and are written on close', async () => {
    const device = await registry.addDevice(apiKey);
    await deployTo(registry, apiKey, 'device', device, '1.0.0', v1);
    await download(
      `${registry.url}${downloadPath('device', device)}`,
      esp32UpdaterHeaders({ md5: md5(v1) }),
    );
    const row = () =>
      registry.context.db
        .prepare('SELECT last_contact, running_version FROM devices WHERE id = ?')
        .get(device.id) as { last_contact: string | null; running_version: string | null };
    expect(row().last_contact).toBeNull();
    await registry.close();
    // Reopen the same data: what was pending was written by close().
    const context = createContext(registry.context.config);
    const running = await startServer(context);
    try {
      const stored = context.db
        .prepare('SELECT last_contact, running_version FROM devices WHERE id = ?')
        .get(device.id) as { last_contact: string | null; running_version: string | null };
      expect(stored.last_contact).not.toBeNull();
      expect(stored.running_version).toBe('1.0.0');
    } finally {
      await running.close();
    }
    // afterAll closes again; a second close of the old server must not throw.
    registry = { ...registry, close: async () => undefined };
  });
});
