import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { MqttClient } from 'mqtt';
import { MqttClientLink } from '../../../server/mqtt/mqtt-client-link.js';
import { MqttUnavailableError } from '../../../server/mqtt/mqtt-link.js';
import {
  collectMessages,
  mqttClient,
  privateBroker,
  sharedBroker,
  uniqueMqttUser,
  type RestartableBroker,
  type TestBroker,
} from '../../support/mqtt-broker.js';
import { freePort } from '../../support/serve-process.js';
import { waitFor } from '../../support/registry.js';

const quiet = () => undefined;

function link(url: string, extra: Partial<ConstructorParameters<typeof MqttClientLink>[0]> = {}) {
  return new MqttClientLink({ url, displayUrl: url, log: quiet, ...extra });
}

describe('MqttClientLink against a real broker', () => {
  let broker: TestBroker;
  let observer: MqttClient;

  beforeAll(async () => {
    broker = await sharedBroker();
    observer = await mqttClient(broker.url);
  });
  afterAll(async () => {
    await observer.endAsync(true);
    await broker.close();
  });

  test('publish resolves once the broker acknowledged it, and the message arrives', async () => {
    const prefix = `/${uniqueMqttUser()}`;
    const seen = await collectMessages(observer, `${prefix}/#`);
    const registry = link(broker.url);
    try {
      await waitFor(() => registry.state() === 'connected', 'the link to connect');
      await registry.publish(`${prefix}/devices/x/update-trigger`, '{"version":"1.0.1"}');
      await waitFor(() => seen.length === 1, 'the message');
      expect(seen[0]).toEqual({
        topic: `${prefix}/devices/x/update-trigger`,
        payload: '{"version":"1.0.1"}',
      });
    } finally {
      await registry.close();
    }
  });

  test('subscribe hears what matches the filter, unsubscribe stops it', async () => {
    const user = uniqueMqttUser();
    const registry = link(broker.url);
    const heard: string[] = [];
    registry.onMessage((topic) => heard.push(topic));
    registry.subscribe([`/${user}/devices/+/status`]);
    try {
      await waitFor(() => registry.state() === 'connected', 'the link to connect');
      // The SUBACK is not awaited by subscribe(): publish until the first one is heard.
      await waitFor(
        () => {
          if (heard.length === 0) void observer.publishAsync(`/${user}/devices/a/status`, '{}');
          return heard.length > 0;
        },
        'the subscription to take',
        5000,
      );
      await observer.publishAsync(`/${user}/devices/b/other`, '{}', { qos: 1 });
      registry.unsubscribe([`/${user}/devices/+/status`]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const count = heard.length;
      await observer.publishAsync(`/${user}/devices/c/status`, '{}', { qos: 1 });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(heard.length).toBe(count);
      expect(new Set(heard)).toEqual(new Set([`/${user}/devices/a/status`]));
    } finally {
      await registry.close();
    }
  });

  test('with no broker, publish fails at once and the state says disconnected', async () => {
    const url = `mqtt://127.0.0.1:${await freePort()}`;
    const registry = link(url);
    try {
      expect(registry.state()).toBe('disconnected');
      const started = Date.now();
      await expect(registry.publish('/x/devices/y/update-trigger', '{}')).rejects.toBeInstanceOf(
        MqttUnavailableError,
      );
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      await registry.close();
    }
  });
});

describe('MqttClientLink when its broker is killed and restarted', () => {
  let broker: RestartableBroker;
  beforeAll(async () => {
    broker = await privateBroker();
  });
  afterAll(() => broker.close());

  test('reconnects by itself, subscribes again, and publishes again', async () => {
    const lines: string[] = [];
    const registry = link(broker.url, {
      minBackoffMs: 100,
      maxBackoffMs: 400,
      log: (_level, message) => lines.push(message),
    });
    const heard: string[] = [];
    registry.onMessage((_topic, payload) => heard.push(payload.toString()));
    registry.subscribe(['/u/devices/+/status']);
    try {
      await waitFor(() => registry.state() === 'connected', 'the first connection');
      await broker.kill();
      await waitFor(() => registry.state() === 'disconnected', 'the link to notice');
      await expect(registry.publish('/u/devices/d/update-trigger', '{}')).rejects.toBeInstanceOf(
        MqttUnavailableError,
      );
      await broker.restart();
      await waitFor(() => registry.state() === 'connected', 'the reconnection', 10_000);
      expect(lines.some((line) => line.includes('reconnecting in'))).toBe(true);

      const device = await mqttClient(broker.url);
      try {
        await waitFor(
          () => {
            if (heard.length === 0) void device.publishAsync('/u/devices/d/status', 'after');
            return heard.length > 0;
          },
          'a report after the restart',
          5000,
        );
        const seen = await collectMessages(device, '/u/devices/d/update-trigger');
        await registry.publish('/u/devices/d/update-trigger', '{"version":"2"}');
        await waitFor(() => seen.length === 1, 'the trigger after the restart');
      } finally {
        await device.endAsync(true);
      }
    } finally {
      await registry.close();
    }
  });
});
