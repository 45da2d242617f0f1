/**
 * The Action as the runner starts it (`node dist/index.js`) with `rollout` and `wait`, against
 * a registry on a broker and simulated fleets: green when the fleet takes the release, red with
 * the failing devices named when it does not.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { connectAsync } from 'mqtt';
import { deployTo } from '../support/fleet.js';
import { runActionOnTag } from '../support/action-on-tag.js';
import { IotaapOsDevice } from '../support/iotaap-os-device.js';
import { sharedBroker, uniqueMqttUser, type TestBroker } from '../support/mqtt-broker.js';
import { request, startRegistry, waitFor, type TestRegistry } from '../support/registry.js';
import { CRASHES, build } from '../support/builds.js';
import { arduinoFleet, type Fleet } from '../support/rollout-fleet.js';

let broker: TestBroker;
let registry: TestRegistry;
let apiKey: string;
let mqttUser: string;

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
});
afterAll(async () => {
  await registry.close();
  await broker.close();
});

function deployWithAction(image: Buffer, version: string, inputs: Record<string, string>) {
  return runActionOnTag(image, version, {
    'registry-url': registry.url,
    'api-token': apiKey,
    ...inputs,
  });
}

/** The fleet polls (every second, as a sketch's loop would) while the Action runs. */
async function whilePolling<T>(fleet: Fleet, run: () => Promise<T>): Promise<T> {
  for (const device of fleet.devices) device.start(1000);
  try {
    return await run();
  } finally {
    await Promise.all(fleet.devices.map((device) => device.stop()));
  }
}

describe('the Action with rollout and wait', () => {
  test('a group of 100 takes the release: the rollout completes and the job is green', async () => {
    const fleet = await arduinoFleet(registry, apiKey, 100, '1.0.0');
    const { result, summary } = await whilePolling(fleet, () =>
      deployWithAction(build('1.1.0'), '1.1.0', {
        'group-id': fleet.group.id,
        'group-token': fleet.group.token,
        rollout: '10,50,100',
        wait: '2m',
      }),
    );
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/Waiting up to 2m for group \w+ to verify 1\.1\.0\./);
    expect(result.stdout).toMatch(/Verified: completed, phase 3 of 3 \(100%\): \d+ verified/);
    expect(summary).toContain('1.1.0 on group');
    expect(summary).toContain(': verified</h3>');
    expect(summary).toMatch(/<th>Verified<\/th>/);
    expect(fleet.devices.filter((d) => d.version === '1.1.0').length).toBeGreaterThanOrEqual(90);
  });

  test('a release that rolls back: halted in the first phase, the job red with the devices named', async () => {
    const fleet = await arduinoFleet(registry, apiKey, 100, '2.0.0');
    const bad = build('2.1.0', { projectName: CRASHES });
    const { result, summary } = await whilePolling(fleet, () =>
      deployWithAction(bad, '2.1.0', {
        'group-id': fleet.group.id,
        'group-token': fleet.group.token,
        rollout: '10,50,100',
        wait: '2m',
      }),
    );
    expect(result.code).toBe(1);
    const failed = fleet.devices.filter((device) => device.downloads > 0);
    expect(failed.length).toBeGreaterThan(0);
    expect(result.stdout).toContain(
      `::error::The rollout of 2.1.0 to group ${fleet.group.id} is halted`,
    );
    // Named with the reason: the first failure halts the rollout.
    const named = failed.filter((device) =>
      result.stdout.includes(
        `${device.mac}: downloaded 2.1.0, then reported 2.0.0 (rolled back, or it never booted it)`,
      ),
    );
    expect(named.length).toBeGreaterThan(0);
    expect(summary).toContain(': failed</h3>');
    expect(summary).toContain('<th>Failed device</th>');
    // The rest of the group never got it.
    expect(fleet.devices.filter((d) => d.downloads > 0).length).toBeLessThan(25);
    expect(fleet.devices.every((device) => device.version === '2.0.0')).toBe(true);
  });

  test('one IoTaaP OS device: wait until its MQTT status reports the version', async () => {
    const { id, token } = await registry.addDevice(apiKey);
    const device = new IotaapOsDevice({
      brokerUrl: broker.url,
      mqttUser,
      otaDomain: registry.url,
      deviceId: id,
      deviceToken: token,
      image: build('3.0.0'),
      statusIntervalMs: 500,
    });
    await device.start();
    try {
      await waitFor(
        () => registry.context.push.mqttState() === 'connected',
        'the registry on the broker',
      );
      const { result, summary } = await deployWithAction(build('3.1.0'), '3.1.0', {
        'device-id': id,
        'device-token': token,
        wait: '1m',
      });
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
      expect(result.stdout).toContain('Verified: 1 verified, 0 downloaded, 0 failed, 0 silent.');
      expect(summary).toContain(`3.1.0 on device <code>${id}</code>: verified`);
      expect(device.version).toBe('3.1.0');
    } finally {
      await device.stop();
    }
  });

  test('with --mqtt, starting, advancing, resuming and aborting a rollout trigger the group', async () => {
    const fleet = await arduinoFleet(registry, apiKey, 1, '5.0.0');
    await deployTo(registry, apiKey, 'group', fleet.group, '5.1.0', build('5.1.0'), {
      trigger: 'false',
    });
    const topic = `/${mqttUser}/groups/${fleet.group.id}/update-trigger`;
    const listener = await connectAsync(broker.url, {
      clientId: `rollout-listener-${process.pid}`,
    });
    const heard: string[] = [];
    listener.on('message', (_topic, payload) => heard.push(payload.toString()));
    await listener.subscribeAsync(topic, { qos: 1 });
    try {
      const url = `${registry.url}/v1/ota/group/${fleet.group.id}/rollout`;
      const post = (action: string, json?: unknown) =>
        request(`${url}${action}`, { method: 'POST', apiKey, json });
      expect((await post('', { version: '5.1.0', phases: [50, 100] })).status).toBe(201);
      await waitFor(() => heard.length === 1, 'the trigger of the start');
      await post('/pause');
      await post('/resume');
      await waitFor(() => heard.length === 2, 'the trigger of resume');
      await post('/advance');
      await waitFor(() => heard.length === 3, 'the trigger of the next phase');
      await post('/abort');
      await waitFor(() => heard.length === 4, 'the trigger of abort');
      // The payload names what the group serves: after the abort, the previous version.
      expect(heard.map((payload) => JSON.parse(payload))).toEqual([
        { version: '5.1.0' },
        { version: '5.1.0' },
        { version: '5.1.0' },
        { version: '5.0.0' },
      ]);
    } finally {
      await listener.endAsync();
    }
  });

  test("IoTaaP's cloud: rollout and wait fail at once, saying why", async () => {
    const { result } = await deployWithAction(build('4.0.0'), '4.0.0', {
      'registry-url': 'https://api.iotaap.io',
      // An IoTaaP API key (a self-hosted one is refused there before anything else).
      'api-token': 'iotaapKey123',
      'group-id': '5e1b57808711f904f5df4bad',
      'group-token': 'abc123',
      rollout: '5,100',
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      "::error::rollout is not available with IoTaaP's cloud (api.iotaap.io)",
    );
  });
});
