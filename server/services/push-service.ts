import { HttpError, Messages, conflict, notFound, serviceUnavailable } from '../errors.js';
import { OBJECT_ID } from '../../contract/ids.js';
import { MqttUnavailableError, type LinkState, type MqttLink } from '../mqtt/mqtt-link.js';
import { renderTopic, type TopicTemplates } from '../mqtt/topics.js';
import type { DeviceStore } from '../storage/sqlite/devices.js';
import type { GroupStore } from '../storage/sqlite/groups.js';
import type { TargetKind } from '../storage/sqlite/otas.js';
import type { User } from '../storage/sqlite/users.js';

/** What an upload says about the trigger it published (or why a due one was not sent). */
export interface UploadTrigger {
  triggered: boolean;
  /** Set when a trigger was due (asked for, or the default applied) and could not be sent. */
  error?: string;
}

/**
 * The rules of pushing an update to devices (API.md "Push"): who may be triggered, on which
 * topic, and what the answer is when that cannot be done. The broker is behind MqttLink, so
 * these rules are tested without one.
 */
export class PushService {
  private readonly accountListeners: Array<() => void> = [];

  constructor(
    /** Null when the registry runs without `--mqtt`. */
    readonly link: MqttLink | null,
    private readonly topics: TopicTemplates,
    private readonly devices: DeviceStore,
    private readonly groups: GroupStore,
  ) {}

  /** For /healthz: null when no broker is configured. */
  mqttState(): LinkState | null {
    return this.link?.state() ?? null;
  }

  /**
   * `POST /v1/ota/{device|group}/{id}/trigger`: publishes the trigger and resolves with its
   * topic once the broker acknowledged it. Checked in this order: the target is the caller's
   * (404), a device is not in a group (409), there is firmware to serve (404), the account has
   * an MQTT user (409), the broker takes the message (503).
   */
  async trigger(owner: User, kind: TargetKind, targetId: string): Promise<{ topic: string }> {
    const { topic, version } = this.prepare(owner, kind, targetId);
    if (!this.link) throw serviceUnavailable(Messages.mqttUnavailable);
    try {
      await this.link.publish(topic, JSON.stringify({ version }));
    } catch (err) {
      if (err instanceof MqttUnavailableError) throw serviceUnavailable(Messages.mqttUnavailable);
      throw err;
    }
    return { topic };
  }

  /**
   * After an upload made a new version current: triggers its target when asked (`true`), or by
   * default when a broker is configured and the account has an MQTT user; `false` opts out.
   * Never throws: a trigger that fails is reported beside the upload's success.
   */
  async afterUpload(
    owner: User,
    kind: TargetKind,
    targetId: string,
    asked: boolean | undefined,
  ): Promise<UploadTrigger> {
    const due = asked ?? (this.link !== null && owner.mqttUser !== null);
    if (!due) return { triggered: false };
    try {
      await this.trigger(owner, kind, targetId);
      return { triggered: true };
    } catch (err) {
      if (err instanceof HttpError) return { triggered: false, error: err.message };
      throw err;
    }
  }

  /** An account's MQTT user changed: the subscriptions follow (see DeviceReportService). */
  accountsChanged(): void {
    for (const listener of this.accountListeners) listener();
  }

  onAccountsChanged(listener: () => void): void {
    this.accountListeners.push(listener);
  }

  async close(): Promise<void> {
    await this.link?.close();
  }

  private prepare(
    owner: User,
    kind: TargetKind,
    targetId: string,
  ): { topic: string; version: string } {
    let version: string | null;
    if (kind === 'device') {
      const device = OBJECT_ID.test(targetId) ? this.devices.byId(targetId) : undefined;
      if (!device || device.owner !== owner.id) throw notFound(Messages.noSuchDevice);
      // IoTaaP OS devices in a group listen on the group's topic only.
      if (device.groupId !== null) throw conflict(Messages.deviceInGroupTrigger);
      version = device.servedVersion;
    } else {
      const group = OBJECT_ID.test(targetId) ? this.groups.byId(targetId) : undefined;
      if (!group || group.owner !== owner.id) throw notFound(Messages.noSuchGroup);
      version = group.version;
    }
    if (version === null) throw notFound(Messages.noFirmwareAvailable);
    if (owner.mqttUser === null) throw conflict(Messages.noMqttUser);
    const template = kind === 'device' ? this.topics.deviceTrigger : this.topics.groupTrigger;
    return { topic: renderTopic(template, { user: owner.mqttUser, [kind]: targetId }), version };
  }
}
