import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { loadConfig } from '../../../server/config.js';
import { createContext, type AppContext } from '../../../server/context.js';
import { HttpError, Messages } from '../../../server/errors.js';
import { newObjectId } from '../../../server/ids.js';
import {
  MqttUnavailableError,
  type LinkState,
  type MqttLink,
} from '../../../server/mqtt/mqtt-link.js';
import { IOTAAP_OS_TOPICS } from '../../../server/mqtt/topics.js';
import { PushService } from '../../../server/services/push-service.js';
import { DeviceStore } from '../../../server/storage/sqlite/devices.js';
import { GroupStore } from '../../../server/storage/sqlite/groups.js';
import type { User } from '../../../server/storage/sqlite/users.js';
import { generateEspImage } from '../../support/esp-image-generator.js';
import { md5, sha256 } from '../../support/hashes.js';
import { tempDataDir } from '../../support/registry.js';
import fs from 'node:fs';
import path from 'node:path';

/** The broker side as the service sees it: records publishes, or fails them like a dead broker. */
class FakeLink implements MqttLink {
  published: Array<{ topic: string; payload: string }> = [];
  failure: Error | undefined;
  state(): LinkState {
    return this.failure ? 'disconnected' : 'connected';
  }
  async publish(topic: string, payload: string): Promise<void> {
    if (this.failure) throw this.failure;
    this.published.push({ topic, payload });
  }
  subscribe(): void {}
  unsubscribe(): void {}
  onMessage(): void {}
  async close(): Promise<void> {}
}

describe('PushService (no broker: the rules alone)', () => {
  let context: AppContext;
  let link: FakeLink;
  let push: PushService;
  let owner: User;

  beforeAll(async () => {
    context = createContext(loadConfig({ data: tempDataDir() }, {}));
    link = new FakeLink();
    push = new PushService(
      link,
      IOTAAP_OS_TOPICS,
      new DeviceStore(context.db),
      new GroupStore(context.db),
    );
    await context.auth.addUser('push@example.com', 'user', null, 'fleet');
    owner = context.auth.userByEmail('push@example.com');
  });
  afterAll(() => {
    context.db.close();
  });

  /** A device of `user` serving `version` (uploaded through the service, as the route does). */
  function deviceWith(user: User, version: string | null): string {
    const { device, token } = context.devices.create(user.id);
    if (version !== null) {
      const bytes = generateEspImage({ seed: Math.floor(Math.random() * 1e6), size: 8192 });
      const tempPath = context.files.newTempPath();
      fs.mkdirSync(path.dirname(tempPath), { recursive: true });
      fs.writeFileSync(tempPath, bytes);
      context.ota.deploy({
        owner: user.id,
        targetId: device.id,
        token,
        version,
        firmware: {
          tempPath,
          size: bytes.length,
          sha256: sha256(bytes),
          md5: md5(bytes),
          image: { chip: 'esp32' } as never,
          otaClient: [],
        },
      });
    }
    return device.id;
  }

  async function refusal(promise: Promise<unknown>): Promise<{ status: number; message: string }> {
    const err = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(err instanceof HttpError)) throw new Error(`expected an HttpError, got ${String(err)}`);
    return { status: err.status, message: err.message };
  }

  test('a trigger goes to the device topic with the served version', async () => {
    const id = deviceWith(owner, '1.2.3');
    link.published = [];
    await expect(push.trigger(owner, 'device', id)).resolves.toEqual({
      topic: `/fleet/devices/${id}/update-trigger`,
    });
    expect(link.published).toEqual([
      { topic: `/fleet/devices/${id}/update-trigger`, payload: '{"version":"1.2.3"}' },
    ]);
  });

  test('the checks come in order: owner, group, firmware, MQTT user, broker', async () => {
    const unknown = newObjectId();
    expect(await refusal(push.trigger(owner, 'device', unknown))).toEqual({
      status: 404,
      message: Messages.noSuchDevice,
    });
    expect(await refusal(push.trigger(owner, 'device', 'not-an-id'))).toEqual({
      status: 404,
      message: Messages.noSuchDevice,
    });
    const stranger = { ...owner, id: newObjectId() };
    expect(await refusal(push.trigger(stranger, 'device', deviceWith(owner, '1.0.0')))).toEqual({
      status: 404,
      message: Messages.noSuchDevice,
    });

    const { group } = context.groups.create(owner.id, 'g');
    const member = deviceWith(owner, null);
    context.devices.update(owner.id, member, { group: group.id });
    // In a group, without firmware, without an MQTT user: the group comes first.
    expect(await refusal(push.trigger({ ...owner, mqttUser: null }, 'device', member))).toEqual({
      status: 409,
      message: Messages.deviceInGroupTrigger,
    });
    expect(await refusal(push.trigger({ ...owner, mqttUser: null }, 'group', group.id))).toEqual({
      status: 404,
      message: Messages.noFirmwareAvailable,
    });
    const served = deviceWith(owner, '1.0.0');
    expect(await refusal(push.trigger({ ...owner, mqttUser: null }, 'device', served))).toEqual({
      status: 409,
      message: Messages.noMqttUser,
    });
    link.failure = new MqttUnavailableError('not connected');
    try {
      expect(await refusal(push.trigger(owner, 'device', served))).toEqual({
        status: 503,
        message: Messages.mqttUnavailable,
      });
    } finally {
      link.failure = undefined;
    }
    const unconfigured = new PushService(
      null,
      IOTAAP_OS_TOPICS,
      new DeviceStore(context.db),
      new GroupStore(context.db),
    );
    expect(await refusal(unconfigured.trigger(owner, 'device', served))).toEqual({
      status: 503,
      message: Messages.mqttUnavailable,
    });
    expect(unconfigured.mqttState()).toBeNull();
  });

  test.each([
    // [asked, broker configured, MQTT user, broker up] -> what the upload says
    [undefined, true, true, true, { triggered: true }],
    [undefined, true, true, false, { triggered: false, error: Messages.mqttUnavailable }],
    [undefined, true, false, true, { triggered: false }],
    [undefined, false, true, true, { triggered: false }],
    [false, true, true, true, { triggered: false }],
    [true, true, true, true, { triggered: true }],
    [true, true, false, true, { triggered: false, error: Messages.noMqttUser }],
    [true, false, true, true, { triggered: false, error: Messages.mqttUnavailable }],
    [true, true, true, false, { triggered: false, error: Messages.mqttUnavailable }],
  ])(
    'after an upload: trigger=%p, broker %p, mqtt_user %p, broker up %p',
    async (asked, configured, hasUser, up, expected) => {
      const service = configured
        ? push
        : new PushService(
            null,
            IOTAAP_OS_TOPICS,
            new DeviceStore(context.db),
            new GroupStore(context.db),
          );
      const id = deviceWith(owner, '2.0.0');
      link.published = [];
      link.failure = up ? undefined : new MqttUnavailableError('down');
      try {
        const user = hasUser ? owner : { ...owner, mqttUser: null };
        expect(await service.afterUpload(user, 'device', id, asked)).toEqual(expected);
        expect(link.published).toHaveLength(expected.triggered ? 1 : 0);
      } finally {
        link.failure = undefined;
      }
    },
  );
});
