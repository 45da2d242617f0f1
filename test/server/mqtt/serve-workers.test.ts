import { afterAll, describe, expect, test } from '@jest/globals';
import { generateEspImage } from '../../support/esp-image-generator.js';
import { mqttClient, sharedBroker, uniqueMqttUser } from '../../support/mqtt-broker.js';
import {
  cliUserWithDevice,
  killAllRegistries,
  spawnRegistry,
} from '../../support/registry-process.js';
import { request, tempDataDir, upload, waitFor } from '../../support/registry.js';

afterAll(() => killAllRegistries());

describe('serve --workers 2 --mqtt', () => {
  test('workers publish triggers; the primary alone records reports, which every worker shows', async () => {
    const broker = await sharedBroker();
    const dataDir = tempDataDir();
    const mqttUser = uniqueMqttUser();
    const { apiKey, device } = await cliUserWithDevice(dataDir, 'workers@example.com', {
      userArgs: ['--mqtt-user', mqttUser],
    });
    const registry = await spawnRegistry(dataDir, ['--workers', '2', '--mqtt', broker.url]);
    const observer = await mqttClient(broker.url);
    try {
      expect(registry.output()).toContain(`MQTT broker ${broker.url}`);
      const triggers: string[] = [];
      observer.on('message', (topic, payload) => {
        if (topic.endsWith('/update-trigger')) triggers.push(payload.toString());
      });
      await observer.subscribeAsync(`/${mqttUser}/#`, { qos: 1 });
      // Each worker has its own link: wait until the one answering says it is connected.
      await waitFor(
        async () => {
          const health = await request(`${registry.url}/healthz`);
          return (health.body as { mqtt?: string }).mqtt === 'connected';
        },
        'a connected worker',
        10_000,
      );
      let uploaded;
      for (let attempt = 0; ; attempt++) {
        uploaded = await upload(
          `${registry.url}/v1/ota/device`,
          apiKey,
          { device: device._id, token: device.token, version: `1.0.${attempt}` },
          [{ bytes: generateEspImage({ seed: attempt, size: 16 * 1024 }) }],
        );
        // The other worker's link may still be connecting: then the upload says so, and succeeds.
        if ((uploaded.body as { triggered: boolean }).triggered || attempt > 20) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(uploaded).toMatchObject({ status: 201, body: { triggered: true } });
      await waitFor(() => triggers.length >= 1, 'the trigger');

      const shown = async () =>
        (await request(`${registry.url}/v1/devices/${device._id}`, { apiKey: apiKey }))
          .body as Record<string, unknown>;
      await waitFor(
        async () => {
          await observer.publishAsync(
            `/${mqttUser}/devices/${device._id}/status`,
            JSON.stringify({ uptime: 3, fw_version: '9.9.9' }),
            { qos: 1 },
          );
          await new Promise((resolve) => setTimeout(resolve, 300));
          return (await shown()).running_version === '9.9.9';
        },
        'the report, recorded by the primary',
        10_000,
      );
      expect(await shown()).toMatchObject({ running_version_source: 'mqtt', uptime: 3 });
    } finally {
      await observer.endAsync(true);
      registry.child.kill('SIGTERM');
      expect(await registry.exited).toEqual({ code: 0, signal: null });
    }
  });
});
