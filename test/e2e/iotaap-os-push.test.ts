import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { CRASHES, boots, build } from '../support/builds.js';
import { addGroup, deployTo, setGroup } from '../support/fleet.js';
import { IotaapOsDevice, type IotaapOsDeviceOptions } from '../support/iotaap-os-device.js';
import { sharedBroker, uniqueMqttUser, type TestBroker } from '../support/mqtt-broker.js';
import { request, startRegistry, waitFor, type TestRegistry } from '../support/registry.js';

describe('IoTaaP OS devices pushed over MQTT', () => {
  let broker: TestBroker;
  let registry: TestRegistry;
  let apiKey: string;
  let mqttUser: string;
  const devices: IotaapOsDevice[] = [];

  beforeAll(async () => {
    broker = await sharedBroker();
    registry = await startRegistry({ mqtt: broker.url });
    apiKey = await registry.addUser();
    mqttUser = uniqueMqttUser();
    await request(`${registry.url}/v1/account`, {
      method: 'PUT',
      apiKey,
      json: { mqtt_user: mqttUser },
    });
    await waitFor(() => registry.context.push.mqttState() === 'connected', 'the broker', 10_000);
  });
  afterAll(async () => {
    await Promise.all(devices.map((device) => device.stop()));
    await registry.close();
    await broker.close();
  });

  async function boot(
    options: Omit<IotaapOsDeviceOptions, 'brokerUrl' | 'mqttUser' | 'otaDomain'>,
  ): Promise<IotaapOsDevice> {
    const device = new IotaapOsDevice({
      brokerUrl: broker.url,
      mqttUser,
      otaDomain: registry.url,
      statusIntervalMs: 300,
      checkDelayMs: 2000,
      boots,
      ...options,
    });
    devices.push(device);
    await device.start();
    return device;
  }

  const shown = async (id: string) =>
    (await request(`${registry.url}/v1/devices/${id}`, { apiKey })).body as Record<string, unknown>;

  test('an upload reaches a device in seconds: 200, 201, download, reboot, status with the new version', async () => {
    const { id, token } = await registry.addDevice(apiKey);
    const device = await boot({ deviceId: id, deviceToken: token, image: build('1.0.0') });
    await waitFor(() => device.version === '1.0.0', 'boot');

    const res = await deployTo(registry, apiKey, 'device', { id, token }, '1.1.0', build('1.1.0'));
    expect(res).toMatchObject({ status: 201, body: { triggered: true } });
    await waitFor(() => device.version === '1.1.0', 'the update', 15_000);
    expect(device.events).toEqual([
      { kind: 'response', code: 200 },
      { kind: 'response', code: 201 },
      { kind: 'rebooted', version: '1.1.0', rolledBack: false },
    ]);
    await waitFor(async () => (await shown(id)).running_version === '1.1.0', 'the report', 5000);
    const record = await shown(id);
    expect(record).toMatchObject({
      running_version: '1.1.0',
      running_version_source: 'mqtt',
      update_state: 'up-to-date',
      last_update_response: { code: 201, at: expect.any(String) },
    });
    // uptime restarted at the reboot.
    expect(record.uptime as number).toBeLessThan(5);
  });

  test('a trigger for the version it already runs: 202', async () => {
    const { id, token } = await registry.addDevice(apiKey);
    await deployTo(registry, apiKey, 'device', { id, token }, '2.0.0', build('2.0.0'), {
      trigger: 'false',
    });
    const device = await boot({ deviceId: id, deviceToken: token, image: build('2.0.0') });
    const res = await request(`${registry.url}/v1/ota/device/${id}/trigger`, {
      method: 'POST',
      apiKey,
    });
    expect(res.status).toBe(202);
    await waitFor(() => device.events.length === 2, 'the answers', 10_000);
    expect(device.events).toEqual([
      { kind: 'response', code: 200 },
      { kind: 'response', code: 202 },
    ]);
    await waitFor(
      async () => ((await shown(id)).last_update_response as { code: number } | null)?.code === 202,
      'the 202 recorded',
    );
  });

  test('a version label without a new build: the download answers 304, the device 203', async () => {
    const { id, token } = await registry.addDevice(apiKey);
    const image = build('3.0.0');
    const device = await boot({ deviceId: id, deviceToken: token, image });
    // The same bytes uploaded as 3.0.1: the device sees a new version, but already runs the bytes.
    await deployTo(registry, apiKey, 'device', { id, token }, '3.0.1', image);
    await waitFor(() => device.events.length === 4, 'the answers', 10_000);
    expect(device.events).toEqual([
      { kind: 'response', code: 200 },
      { kind: 'response', code: 201 },
      { kind: 'download-failed', status: 304, reason: 'no updates' },
      { kind: 'response', code: 203 },
    ]);
    await waitFor(
      async () => ((await shown(id)).last_update_response as { code: number } | null)?.code === 203,
      'the 203 recorded',
    );
    expect(device.version).toBe('3.0.0');
  });

  test('an image that does not boot: the device rolls back and keeps reporting the old version', async () => {
    const { id, token } = await registry.addDevice(apiKey);
    const device = await boot({ deviceId: id, deviceToken: token, image: build('4.0.0') });
    await deployTo(
      registry,
      apiKey,
      'device',
      { id, token },
      '4.0.1',
      build('4.0.1', { projectName: CRASHES }),
    );
    await waitFor(() => device.events.some((e) => e.kind === 'rebooted'), 'the reboot', 10_000);
    expect(device.events.at(-1)).toEqual({ kind: 'rebooted', version: '4.0.0', rolledBack: true });
    await waitFor(
      async () => ((await shown(id)).last_update_response as { code: number } | null)?.code === 201,
      'the 201 recorded',
    );
    // What a rollout will verify from: it said 201, downloaded, and still runs the old version.
    // (the download's check-in says it runs bytes the registry does not keep; its next status
    // names the version again)
    await waitFor(async () => {
      const record = await shown(id);
      return record.running_version === '4.0.0' && record.running_version_source === 'mqtt';
    }, 'a status after the reboot');
    expect(await shown(id)).toMatchObject({ update_state: 'pending' });
  });

  test('100 devices of a group: an upload reaches every one of them', async () => {
    const fleetSize = 100;
    const group = await addGroup(registry, apiKey);
    const members: Array<{ id: string; device: IotaapOsDevice }> = [];
    await deployTo(registry, apiKey, 'group', group, '5.0.0', build('5.0.0'), { trigger: 'false' });
    for (let i = 0; i < fleetSize; i++) {
      const { id, token } = await registry.addDevice(apiKey);
      await setGroup(registry, apiKey, id, group.id);
      members.push({
        id,
        device: await boot({
          deviceId: id,
          deviceToken: token,
          group,
          image: build('5.0.0'),
          statusIntervalMs: 1000,
        }),
      });
    }
    const upload = await deployTo(registry, apiKey, 'group', group, '5.1.0', build('5.1.0'));
    const uploaded = Date.now();
    expect(upload).toMatchObject({ status: 201, body: { triggered: true } });

    await waitFor(
      () => members.every((m) => m.device.version === '5.1.0'),
      'every device updated',
      30_000,
    );
    const devicesUpdated = Date.now() - uploaded;
    const ids = new Set(members.map((m) => m.id));
    const allReported = async () => {
      const list = await request(`${registry.url}/v1/devices?limit=1000`, { apiKey });
      const rows = (
        list.body as { devices: Array<{ _id: string; running_version: string | null }> }
      ).devices;
      return (
        rows.filter((row) => ids.has(row._id) && row.running_version === '5.1.0').length ===
        fleetSize
      );
    };
    await waitFor(allReported, 'every device reported 5.1.0', 30_000);
    const reported = Date.now() - uploaded;
    process.stderr.write(
      `[fleet] ${fleetSize} IoTaaP OS devices: upload 201 -> all running 5.1.0 in ${devicesUpdated} ms, ` +
        `-> all reported to the registry in ${reported} ms (IoTaaP OS waits 2 s before its check)\n`,
    );
    for (const { device } of members) {
      expect(device.events.slice(0, 3)).toEqual([
        { kind: 'response', code: 200 },
        { kind: 'response', code: 201 },
        { kind: 'rebooted', version: '5.1.0', rolledBack: false },
      ]);
    }
  });
});
