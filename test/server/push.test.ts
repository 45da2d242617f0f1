import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { MqttClient } from 'mqtt';
import { Messages } from '../../server/errors.js';
import { generateEspImage } from '../support/esp-image-generator.js';
import { addGroup, deployTo, setGroup } from '../support/fleet.js';
import { md5 } from '../support/hashes.js';
import {
  collectMessages,
  mqttClient,
  privateBroker,
  sharedBroker,
  uniqueMqttUser,
  type TestBroker,
} from '../support/mqtt-broker.js';
import { freePort } from '../support/serve-process.js';
import { request, startRegistry, waitFor, type TestRegistry } from '../support/registry.js';

const image = (seed: number) => generateEspImage({ seed, size: 16 * 1024 });

/** A user with an MQTT user name set through PUT /v1/account. */
async function mqttAccount(registry: TestRegistry): Promise<{ apiKey: string; mqttUser: string }> {
  const apiKey = await registry.addUser();
  const mqttUser = uniqueMqttUser();
  const res = await request(`${registry.url}/v1/account`, {
    method: 'PUT',
    apiKey,
    json: { mqtt_user: mqttUser },
  });
  expect(res.status).toBe(200);
  return { apiKey, mqttUser };
}

async function connected(registry: TestRegistry): Promise<void> {
  await waitFor(() => registry.context.push.mqttState() === 'connected', 'the broker link', 10_000);
}

/** A registry started with --mqtt on the shared broker, connected, and a client on the broker. */
async function registryOnBroker() {
  const broker = await sharedBroker();
  const registry = await startRegistry({ mqtt: broker.url });
  const observer = await mqttClient(broker.url);
  await connected(registry);
  return { broker, registry, observer };
}

describe('accounts: mqtt_user', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(() => registry.close());

  test('GET /v1/account, then PUT sets and removes the MQTT user', async () => {
    const apiKey = await registry.addUser('mqtt-owner@example.com');
    const before = await request(`${registry.url}/v1/account`, { apiKey });
    expect(before.status).toBe(200);
    expect(before.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{24}$/),
      email: 'mqtt-owner@example.com',
      role: 'user',
      mqtt_user: null,
    });
    const set = await request(`${registry.url}/v1/account`, {
      method: 'PUT',
      apiKey,
      json: { mqtt_user: 'greenhouse-fleet' },
    });
    expect(set).toMatchObject({ status: 200, body: { mqtt_user: 'greenhouse-fleet' } });
    expect((await request(`${registry.url}/v1/account`, { apiKey })).body).toMatchObject({
      mqtt_user: 'greenhouse-fleet',
    });
    const other = await registry.addUser();
    const taken = await request(`${registry.url}/v1/account`, {
      method: 'PUT',
      apiKey: other,
      json: { mqtt_user: 'greenhouse-fleet' },
    });
    expect(taken).toMatchObject({
      status: 409,
      body: { message: Messages.mqttUserTaken('greenhouse-fleet') },
    });
    const removed = await request(`${registry.url}/v1/account`, {
      method: 'PUT',
      apiKey,
      json: { mqtt_user: null },
    });
    expect(removed).toMatchObject({ status: 200, body: { mqtt_user: null } });
  });

  test.each([['a/b'], ['+'], ['fleet#1'], ['with space'], ['x'.repeat(65)], [42], [true]])(
    'mqtt_user %p is refused',
    async (value) => {
      const apiKey = await registry.addUser();
      const res = await request(`${registry.url}/v1/account`, {
        method: 'PUT',
        apiKey,
        json: { mqtt_user: value },
      });
      expect(res).toMatchObject({ status: 400, body: { message: Messages.mqttUserInvalid } });
    },
  );

  test('PUT without mqtt_user, and without a key', async () => {
    const apiKey = await registry.addUser();
    expect(
      await request(`${registry.url}/v1/account`, { method: 'PUT', apiKey, json: {} }),
    ).toMatchObject({ status: 400, body: { message: Messages.mandatoryField('mqtt_user') } });
    expect((await request(`${registry.url}/v1/account`)).status).toBe(401);
  });
});

describe('without a broker (no --mqtt)', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(() => registry.close());

  test('healthz says nothing about MQTT; triggers are 503; uploads do not trigger by default', async () => {
    expect((await request(`${registry.url}/healthz`)).body).toEqual({ status: 'ok' });
    const { apiKey } = await mqttAccount(registry);
    const device = await registry.addDevice(apiKey);
    const first = await deployTo(registry, apiKey, 'device', device, '1.0.0', image(1));
    expect(first).toMatchObject({ status: 201, body: { triggered: false } });
    expect(first.body).not.toHaveProperty('trigger_error');
    const asked = await deployTo(registry, apiKey, 'device', device, '1.0.1', image(2), {
      trigger: 'true',
    });
    expect(asked).toMatchObject({
      status: 201,
      body: { triggered: false, trigger_error: Messages.mqttUnavailable },
    });
    const trigger = await request(`${registry.url}/v1/ota/device/${device.id}/trigger`, {
      method: 'POST',
      apiKey,
    });
    expect(trigger).toMatchObject({ status: 503, body: { message: Messages.mqttUnavailable } });
  });
});

describe('with a broker', () => {
  let broker: TestBroker;
  let registry: TestRegistry;
  let observer: MqttClient;

  beforeAll(async () => {
    ({ broker, registry, observer } = await registryOnBroker());
  });
  afterAll(async () => {
    await observer.endAsync(true);
    await registry.close();
    await broker.close();
  });

  describe('triggers', () => {
    test('healthz says the broker is connected', async () => {
      expect((await request(`${registry.url}/healthz`)).body).toEqual({
        status: 'ok',
        mqtt: 'connected',
      });
    });

    test('POST .../device/{id}/trigger publishes QoS 1 to the device topic with the served version', async () => {
      const { apiKey, mqttUser } = await mqttAccount(registry);
      const device = await registry.addDevice(apiKey);
      const seen = await collectMessages(observer, `/${mqttUser}/#`);
      await deployTo(registry, apiKey, 'device', device, '2.1.0', image(3), { trigger: 'false' });
      const res = await request(`${registry.url}/v1/ota/device/${device.id}/trigger`, {
        method: 'POST',
        apiKey,
      });
      const topic = `/${mqttUser}/devices/${device.id}/update-trigger`;
      expect(res).toMatchObject({
        status: 202,
        body: { message: Messages.updateTriggered, topic },
      });
      await waitFor(() => seen.length === 1, 'the trigger');
      expect(seen).toEqual([{ topic, payload: '{"version":"2.1.0"}' }]);
    });

    test('POST .../group/{id}/trigger publishes to the group topic', async () => {
      const { apiKey, mqttUser } = await mqttAccount(registry);
      const group = await addGroup(registry, apiKey);
      const seen = await collectMessages(observer, `/${mqttUser}/#`);
      await deployTo(registry, apiKey, 'group', group, '3.0.0', image(4), { trigger: 'false' });
      const res = await request(`${registry.url}/v1/ota/group/${group.id}/trigger`, {
        method: 'POST',
        apiKey,
      });
      const topic = `/${mqttUser}/groups/${group.id}/update-trigger`;
      expect(res).toMatchObject({ status: 202, body: { topic } });
      await waitFor(() => seen.length === 1, 'the trigger');
      expect(seen[0]).toEqual({ topic, payload: '{"version":"3.0.0"}' });
    });

    test('refusals: a device in a group, no firmware, no MQTT user, another owner', async () => {
      const { apiKey } = await mqttAccount(registry);
      const trigger = (kind: string, id: string, key = apiKey) =>
        request(`${registry.url}/v1/ota/${kind}/${id}/trigger`, { method: 'POST', apiKey: key });

      const empty = await registry.addDevice(apiKey);
      expect(await trigger('device', empty.id)).toMatchObject({
        status: 404,
        body: { message: Messages.noFirmwareAvailable },
      });
      const emptyGroup = await addGroup(registry, apiKey);
      expect(await trigger('group', emptyGroup.id)).toMatchObject({
        status: 404,
        body: { message: Messages.noFirmwareAvailable },
      });

      const member = await registry.addDevice(apiKey);
      await setGroup(registry, apiKey, member.id, emptyGroup.id);
      expect(await trigger('device', member.id)).toMatchObject({
        status: 409,
        body: { message: Messages.deviceInGroupTrigger },
      });

      const noMqtt = await registry.addUser();
      const plain = await registry.addDevice(noMqtt);
      await deployTo(registry, noMqtt, 'device', plain, '1.0.0', image(5));
      expect(await trigger('device', plain.id, noMqtt)).toMatchObject({
        status: 409,
        body: { message: Messages.noMqttUser },
      });
      expect(await trigger('device', plain.id)).toMatchObject({
        status: 404,
        body: { message: Messages.noSuchDevice },
      });
      expect(await trigger('group', 'f'.repeat(24))).toMatchObject({
        status: 404,
        body: { message: Messages.noSuchGroup },
      });
      expect(
        (await request(`${registry.url}/v1/ota/device/${plain.id}/trigger`, { method: 'POST' }))
          .status,
      ).toBe(401);
    });
  });

  describe('trigger on upload', () => {
    test('by default a 201 triggers; trigger=false opts out; a 200 triggers nothing; trigger=true too', async () => {
      const { apiKey, mqttUser } = await mqttAccount(registry);
      const device = await registry.addDevice(apiKey);
      const seen = await collectMessages(observer, `/${mqttUser}/#`);
      const topic = `/${mqttUser}/devices/${device.id}/update-trigger`;

      const first = await deployTo(registry, apiKey, 'device', device, '1.0.0', image(10));
      expect(first).toMatchObject({ status: 201, body: { triggered: true } });
      await waitFor(() => seen.length === 1, 'the trigger of the upload');
      expect(seen[0]).toEqual({ topic, payload: '{"version":"1.0.0"}' });

      const again = await deployTo(registry, apiKey, 'device', device, '1.0.0', image(10));
      expect(again).toMatchObject({ status: 200, body: { triggered: false } });

      const optOut = await deployTo(registry, apiKey, 'device', device, '1.0.1', image(11), {
        trigger: 'false',
      });
      expect(optOut).toMatchObject({ status: 201, body: { triggered: false } });
      expect(optOut.body).not.toHaveProperty('trigger_error');

      const asked = await deployTo(registry, apiKey, 'device', device, '1.0.2', image(12), {
        trigger: 'true',
      });
      expect(asked).toMatchObject({ status: 201, body: { triggered: true } });
      await waitFor(() => seen.length === 2, 'the asked-for trigger');
      // The same-bytes 200 and the opted-out upload published nothing.
      expect(seen.map((m) => m.payload)).toEqual(['{"version":"1.0.0"}', '{"version":"1.0.2"}']);
    });

    test('a group upload triggers the group topic', async () => {
      const { apiKey, mqttUser } = await mqttAccount(registry);
      const group = await addGroup(registry, apiKey);
      const seen = await collectMessages(observer, `/${mqttUser}/#`);
      const res = await deployTo(registry, apiKey, 'group', group, '5.0.0', image(13));
      expect(res).toMatchObject({ status: 201, body: { triggered: true } });
      await waitFor(() => seen.length === 1, 'the group trigger');
      expect(seen[0].topic).toBe(`/${mqttUser}/groups/${group.id}/update-trigger`);
    });

    test('no MQTT user: no trigger by default, a trigger_error when asked', async () => {
      const apiKey = await registry.addUser();
      const device = await registry.addDevice(apiKey);
      const plain = await deployTo(registry, apiKey, 'device', device, '1.0.0', image(14));
      expect(plain).toMatchObject({ status: 201, body: { triggered: false } });
      expect(plain.body).not.toHaveProperty('trigger_error');
      const asked = await deployTo(registry, apiKey, 'device', device, '1.0.1', image(15), {
        trigger: 'true',
      });
      expect(asked).toMatchObject({
        status: 201,
        body: { triggered: false, trigger_error: Messages.noMqttUser },
      });
    });

    test('trigger must be true or false', async () => {
      const { apiKey } = await mqttAccount(registry);
      const device = await registry.addDevice(apiKey);
      const res = await deployTo(registry, apiKey, 'device', device, '1.0.0', image(16), {
        trigger: 'yes',
      });
      expect(res).toMatchObject({ status: 400, body: { message: Messages.triggerInvalid } });
    });
  });
});

describe('with a broker that is down', () => {
  test('uploads succeed with a trigger_error; triggers are 503 at once; healthz says disconnected', async () => {
    const registry = await startRegistry({ mqtt: `mqtt://127.0.0.1:${await freePort()}` });
    try {
      const { apiKey } = await mqttAccount(registry);
      const device = await registry.addDevice(apiKey);
      const res = await deployTo(registry, apiKey, 'device', device, '1.0.0', image(20));
      expect(res).toMatchObject({
        status: 201,
        body: { triggered: false, trigger_error: Messages.mqttUnavailable },
      });
      const started = Date.now();
      const trigger = await request(`${registry.url}/v1/ota/device/${device.id}/trigger`, {
        method: 'POST',
        apiKey,
      });
      expect(trigger).toMatchObject({ status: 503, body: { message: Messages.mqttUnavailable } });
      expect(Date.now() - started).toBeLessThan(2000);
      expect((await request(`${registry.url}/healthz`)).body).toEqual({
        status: 'ok',
        mqtt: 'disconnected',
      });
      expect((await request(`${registry.url}/v1/ota/device/latest/${device.id}`)).body).toEqual({
        ver: '1.0.0',
      });
    } finally {
      await registry.close();
    }
  });
});

describe('the broker killed and restarted during a test', () => {
  test('no HTTP request fails, the registry reconnects, later triggers arrive', async () => {
    const broker = await privateBroker();
    const registry = await startRegistry({ mqtt: broker.url });
    try {
      await connected(registry);
      const { apiKey, mqttUser } = await mqttAccount(registry);
      const device = await registry.addDevice(apiKey);
      await deployTo(registry, apiKey, 'device', device, '1.0.0', image(30), { trigger: 'false' });

      // Devices keep polling all along: none of their requests may fail.
      let polls = 0;
      let failures = 0;
      let polling = true;
      const poller = (async () => {
        while (polling) {
          const res = await fetch(`${registry.url}/v1/ota/device/latest/${device.id}`);
          await res.text();
          if (res.status === 200) polls++;
          else failures++;
        }
      })();

      await broker.kill();
      await waitFor(() => registry.context.push.mqttState() === 'disconnected', 'the drop');
      const during = await deployTo(registry, apiKey, 'device', device, '1.0.1', image(31));
      expect(during).toMatchObject({
        status: 201,
        body: { triggered: false, trigger_error: Messages.mqttUnavailable },
      });
      expect((await request(`${registry.url}/healthz`)).body).toMatchObject({
        mqtt: 'disconnected',
      });

      await broker.restart();
      await connected(registry);
      const observer = await mqttClient(broker.url);
      try {
        const seen = await collectMessages(observer, `/${mqttUser}/#`);
        const after = await request(`${registry.url}/v1/ota/device/${device.id}/trigger`, {
          method: 'POST',
          apiKey,
        });
        expect(after.status).toBe(202);
        await waitFor(() => seen.length === 1, 'the trigger after the restart');
        expect(seen[0].payload).toBe('{"version":"1.0.1"}');
      } finally {
        await observer.endAsync(true);
      }
      polling = false;
      await poller;
      expect(failures).toBe(0);
      expect(polls).toBeGreaterThan(0);
    } finally {
      await registry.close();
      await broker.close();
    }
  });
});

describe('device reports over MQTT', () => {
  let broker: TestBroker;
  let registry: TestRegistry;
  let device: MqttClient;

  beforeAll(async () => {
    ({ broker, registry, observer: device } = await registryOnBroker());
  });
  afterAll(async () => {
    await device.endAsync(true);
    await registry.close();
    await broker.close();
  });

  const getDevice = async (apiKey: string, id: string) =>
    (await request(`${registry.url}/v1/devices/${id}`, { apiKey })).body as Record<string, unknown>;

  /**
   * Publishes as a device until the registry shows the effect: the registry's SUBSCRIBE is not
   * acknowledged before PUT /v1/account answers, so the first messages may come too early.
   */
  async function publishUntil(
    topic: string,
    payload: unknown,
    check: () => Promise<boolean>,
  ): Promise<void> {
    const until = Date.now() + 5000;
    for (;;) {
      await device.publishAsync(topic, JSON.stringify(payload), { qos: 1 });
      await new Promise((resolve) => setTimeout(resolve, 150));
      if (await check()) return;
      if (Date.now() > until) throw new Error(`nothing recorded from ${topic}`);
    }
  }

  test("status and update-response of the account's devices are recorded and shown", async () => {
    const { apiKey, mqttUser } = await mqttAccount(registry);
    const mine = await registry.addDevice(apiKey);
    const before = await getDevice(apiKey, mine.id);
    expect(before).toMatchObject({
      running_version: null,
      running_version_source: null,
      uptime: null,
      last_update_response: null,
    });

    const status = { battery: 87, uptime: 42, core_version: '3.0.3', fw_version: '1.0.7' };
    await publishUntil(
      `/${mqttUser}/devices/${mine.id}/status`,
      status,
      async () => (await getDevice(apiKey, mine.id)).running_version === '1.0.7',
    );
    const shown = await getDevice(apiKey, mine.id);
    expect(shown).toMatchObject({
      running_version: '1.0.7',
      running_version_source: 'mqtt',
      uptime: 42,
      last_contact: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });

    await publishUntil(
      `/${mqttUser}/devices/${mine.id}/update-response`,
      { code: 201 },
      async () => (await getDevice(apiKey, mine.id)).last_update_response !== null,
    );
    expect((await getDevice(apiKey, mine.id)).last_update_response).toEqual({
      code: 201,
      at: expect.stringMatching(/Z$/),
    });
  });

  test("another account's device, unknown ids and malformed payloads are ignored", async () => {
    const a = await mqttAccount(registry);
    const b = await mqttAccount(registry);
    const mine = await registry.addDevice(a.apiKey);
    const theirs = await registry.addDevice(b.apiKey);
    // b's device under a's MQTT user: a's broker login must not speak for b's devices.
    await device.publishAsync(
      `/${a.mqttUser}/devices/${theirs.id}/status`,
      JSON.stringify({ uptime: 5, fw_version: '6.6.6' }),
      { qos: 1 },
    );
    for (const payload of [
      'not json',
      '[1]',
      '{"code":"201"}',
      '{"code":2000}',
      'x'.repeat(2000),
    ]) {
      await device.publishAsync(`/${a.mqttUser}/devices/${mine.id}/update-response`, payload, {
        qos: 1,
      });
    }
    await device.publishAsync(`/${a.mqttUser}/devices/${mine.id}/status`, '{"fw_version":7}', {
      qos: 1,
    });
    await device.publishAsync(`/${a.mqttUser}/devices/nothex/status`, '{"uptime":1}', { qos: 1 });
    // Then one good report: once it shows, everything before it has been handled too.
    await publishUntil(
      `/${a.mqttUser}/devices/${mine.id}/status`,
      { uptime: 9 },
      async () => (await getDevice(a.apiKey, mine.id)).uptime === 9,
    );
    expect(await getDevice(a.apiKey, mine.id)).toMatchObject({
      running_version: null,
      last_update_response: null,
    });
    expect(await getDevice(b.apiKey, theirs.id)).toMatchObject({
      running_version: null,
      uptime: null,
      last_contact: null,
    });
  });

  test('an MQTT user set at runtime is subscribed to; a download makes the source "download"', async () => {
    const { apiKey, mqttUser } = await mqttAccount(registry);
    const mine = await registry.addDevice(apiKey);
    await publishUntil(
      `/${mqttUser}/devices/${mine.id}/status`,
      { uptime: 1, fw_version: '0.0.1' },
      async () => (await getDevice(apiKey, mine.id)).running_version === '0.0.1',
    );
    const bytes = image(40);
    await deployTo(registry, apiKey, 'device', mine, '0.0.2', bytes, { trigger: 'false' });
    const res = await fetch(`${registry.url}/v1/ota/device/download/${mine.id}${mine.token}`, {
      headers: { 'x-ESP32-sketch-md5': md5(bytes), 'x-ESP32-STA-MAC': '24:0A:C4:00:00:01' },
    });
    await res.arrayBuffer();
    expect(await getDevice(apiKey, mine.id)).toMatchObject({
      running_version: '0.0.2',
      running_version_source: 'download',
    });
  });
});
