/**
 * The Action as the runner starts it (`node dist/index.js`), against a registry process started
 * with `--mqtt` and a simulated IoTaaP OS device on the same broker: a tag reaches the device in
 * seconds, and `trigger: false` leaves it to its next check.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { generateEspImage } from '../support/esp-image-generator.js';
import { runActionOnTag } from '../support/action-on-tag.js';
import { startRegistryProcess, type OperatedRegistry } from '../support/registry-process.js';
import { IotaapOsDevice } from '../support/iotaap-os-device.js';
import { sharedBroker, uniqueMqttUser, type TestBroker } from '../support/mqtt-broker.js';
import { waitFor } from '../support/registry.js';

const EMAIL = 'push@example.com';
let broker: TestBroker;
let registry: OperatedRegistry;
let apiKey: string;
let mqttUser: string;
const devices: IotaapOsDevice[] = [];

beforeAll(async () => {
  broker = await sharedBroker();
  registry = await startRegistryProcess(['--mqtt', broker.url]);
  ({ apiKey } = await registry.addUser(EMAIL));
  mqttUser = uniqueMqttUser();
  const res = await fetch(`${registry.url}/v1/account`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ mqtt_user: mqttUser }),
  });
  expect(res.status).toBe(200);
  await waitFor(async () => {
    const health = (await (await fetch(`${registry.url}/healthz`)).json()) as { mqtt?: string };
    return health.mqtt === 'connected';
  }, 'the registry on the broker');
});

afterAll(async () => {
  await Promise.all(devices.map((device) => device.stop()));
  await registry?.stop();
  await broker?.close();
});

const build = (version: string) =>
  generateEspImage({ appVersion: version, embedString: version, size: 32 * 1024, seed: 5 });

function deployWithAction(version: string, inputs: Record<string, string>) {
  return runActionOnTag(build(version), version, {
    'registry-url': registry.url,
    'api-token': apiKey,
    ...inputs,
  });
}

async function bootDevice(version: string) {
  const { id, token } = await registry.addDevice(EMAIL);
  const device = new IotaapOsDevice({
    brokerUrl: broker.url,
    mqttUser,
    otaDomain: registry.url,
    deviceId: id,
    deviceToken: token,
    image: build(version),
    statusIntervalMs: 500,
  });
  devices.push(device);
  await device.start();
  return { id, token, device };
}

describe('the Action with a registry that has a broker', () => {
  test('trigger unset: the registry triggers, the device runs the tag seconds later', async () => {
    const { id, token, device } = await bootDevice('1.0.0');
    const { result, outputs, summary } = await deployWithAction('1.1.0', {
      'device-id': id,
      'device-token': token,
    });
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(outputs).toMatch(/^triggered<<(\S+)\ntrue\n\1$/m);
    expect(result.stdout).toContain(
      'Triggered: the registry told the device over MQTT to update now.',
    );
    expect(summary).toContain('Devices told to update now (MQTT trigger)');
    await waitFor(() => device.version === '1.1.0', 'the device to run 1.1.0', 15_000);
  });

  test('trigger: false uploads without telling the device', async () => {
    const { id, token, device } = await bootDevice('2.0.0');
    const { result, outputs } = await deployWithAction('2.1.0', {
      'device-id': id,
      'device-token': token,
      trigger: 'false',
    });
    expect(result.code).toBe(0);
    expect(outputs).toMatch(/^triggered<<(\S+)\nfalse\n\1$/m);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(device.events).toEqual([]);
    expect(device.version).toBe('2.0.0');
  });
});
