import { connectAsync, type MqttClient } from 'mqtt';
import { compiledVersion, httpUpdate, macFor } from './http-update.js';

/**
 * A simulated IoTaaP OS device, written from DEVICES.md and IoTaaP OS's sources
 * (src/ota/ota_module.cpp, src/mqtt/mqtt_remoteControl.cpp, src/mqtt/mqtt_dataStatus.cpp),
 * not from this registry's code:
 *
 * - subscribes to `/<user>/devices/<id>/update-trigger`, or to its group's
 *   `/<user>/groups/<group>/update-trigger` instead when it has a group; any message there
 *   requests a check;
 * - a requested check answers on `/<user>/devices/<id>/update-response`: 200 on arrival, then
 *   after 2 s asks `latest`; 201 when `ver` differs from the running version (string
 *   inequality) and the download starts; 202 when it is the same; 203 for a 404, any other
 *   answer, a failed download or a 304 from the download;
 * - downloads through a stand-in of arduino-esp32's HTTPUpdate (HTTP/1.0, its x-ESP32-* headers
 *   with the running sketch's MD5; refuses a body without Content-Length, one that does not fit
 *   the free space, one whose first byte is not 0xE9, or whose MD5 differs from x-MD5);
 * - after a successful download it reboots and says nothing more: uptime restarts, and it runs
 *   the new image, unless the image does not boot, in which case ESP-IDF rolls back to the old
 *   one;
 * - publishes `/<user>/devices/<id>/status` `{"battery","uptime","core_version","fw_version"}`
 *   every few seconds; `fw_version` is the version compiled into the running image.
 */
export interface IotaapOsDeviceOptions {
  brokerUrl: string;
  /** The MQTT user name the device logs in with (MqttGetUser()). */
  mqttUser: string;
  deviceId: string;
  deviceToken: string;
  /** With a group, the device checks and downloads through the group's URLs. */
  group?: { id: string; token: string };
  /** `ota_domain`: the registry's base URL, joined by plain string concatenation. */
  otaDomain: string;
  /** The image the device runs at start. */
  image: Buffer;
  /** IoTaaP OS publishes its status every 5 s (STATUS_PUBLISH_TIME). */
  statusIntervalMs?: number;
  /** How long the device waits after answering 200 before it asks `latest` (2 s in IoTaaP OS). */
  checkDelayMs?: number;
  /** How long a reboot takes before the device is back on MQTT. */
  bootMs?: number;
  /** Whether an image boots; one that does not is rolled back by ESP-IDF. Default: every image. */
  boots?: (image: Buffer) => boolean;
  /** The station MAC, as HTTPUpdate sends it. */
  mac?: string;
  freeSpace?: number;
}

/** What happened to the device, for assertions. */
export type DeviceEvent =
  | { kind: 'response'; code: number }
  | { kind: 'rebooted'; version: string; rolledBack: boolean }
  | { kind: 'download-failed'; status: number; reason: string };

const IOTAAP_OS_CORE_VERSION = '3.0.3';

export class IotaapOsDevice {
  readonly events: DeviceEvent[] = [];
  private client: MqttClient | undefined;
  private running: Buffer;
  private bootedAt = Date.now();
  private statusTimer: NodeJS.Timeout | undefined;
  private checking = false;
  private stopped = false;
  private readonly options: Required<Omit<IotaapOsDeviceOptions, 'group'>> &
    Pick<IotaapOsDeviceOptions, 'group'>;

  constructor(options: IotaapOsDeviceOptions) {
    this.options = {
      statusIntervalMs: 5000,
      checkDelayMs: 2000,
      bootMs: 50,
      boots: () => true,
      mac: macFor(options.deviceId),
      freeSpace: 1_966_080,
      ...options,
    };
    this.running = options.image;
  }

  /** The version the running firmware reports (SystemGetFwVersion()). */
  get version(): string {
    return compiledVersion(this.running);
  }

  get uptimeSeconds(): number {
    return Math.floor((Date.now() - this.bootedAt) / 1000);
  }

  get triggerTopic(): string {
    const { mqttUser, deviceId, group } = this.options;
    return group
      ? `/${mqttUser}/groups/${group.id}/update-trigger`
      : `/${mqttUser}/devices/${deviceId}/update-trigger`;
  }

  /** Boots: connects to the broker, subscribes to its trigger topic, starts publishing status. */
  async start(): Promise<void> {
    this.bootedAt = Date.now();
    const client = await connectAsync(this.options.brokerUrl, {
      // mqtt_client.cpp: connect(SystemGetDeviceId(), mqttUser, mqttPassword)
      clientId: this.options.deviceId,
      username: this.options.mqttUser,
      reconnectPeriod: 500,
      connectTimeout: 10_000,
    });
    this.client = client;
    client.on('message', (topic) => {
      // MqttCallback: any payload on the trigger topic requests a check.
      if (topic === this.triggerTopic) void this.requestedCheck();
    });
    await client.subscribeAsync(this.triggerTopic, { qos: 0 });
    this.publishStatus();
    this.statusTimer = setInterval(() => this.publishStatus(), this.options.statusIntervalMs);
  }

  /** Powers off: no more status, no more answers. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.shutdownMqtt();
  }

  private async shutdownMqtt(): Promise<void> {
    clearInterval(this.statusTimer);
    const client = this.client;
    this.client = undefined;
    await client?.endAsync(true);
  }

  private publishStatus(): void {
    const status = {
      battery: 100,
      uptime: this.uptimeSeconds,
      core_version: IOTAAP_OS_CORE_VERSION,
      fw_version: this.version,
    };
    const topic = `/${this.options.mqttUser}/devices/${this.options.deviceId}/status`;
    void this.client
      ?.publishAsync(topic, JSON.stringify(status), { qos: 0 })
      .catch(() => undefined);
  }

  private respond(code: number): void {
    this.events.push({ kind: 'response', code });
    const topic = `/${this.options.mqttUser}/devices/${this.options.deviceId}/update-response`;
    void this.client
      ?.publishAsync(topic, JSON.stringify({ code }), { qos: 0 })
      .catch(() => undefined);
  }

  /** checkUpdate() with systemStat.updateCheckRequested set. */
  private async requestedCheck(): Promise<void> {
    if (this.checking || this.stopped) return;
    this.checking = true;
    try {
      this.respond(200);
      await sleep(this.options.checkDelayMs);
      const { otaDomain, group, deviceId } = this.options;
      const url = group
        ? `${otaDomain}/v1/ota/group/latest/${group.id}`
        : `${otaDomain}/v1/ota/device/latest/${deviceId}`;
      let status: number;
      let body = '';
      try {
        const res = await fetch(url);
        status = res.status;
        body = await res.text();
      } catch {
        status = -1; // HTTPClient's connection errors are negative codes
      }
      if (status !== 200) return this.respond(203);
      const version = parseVer(body);
      if (version === this.version) return this.respond(202);
      this.respond(201);
      await this.otaUpdate();
    } finally {
      this.checking = false;
    }
  }

  /** otaUpdate(): httpUpdate.update(client, <download URL>), rebootOnUpdate(true). */
  private async otaUpdate(): Promise<void> {
    const { otaDomain, group, deviceId, deviceToken } = this.options;
    const path = group
      ? `/v1/ota/group/download/${group.id}${group.token}`
      : `/v1/ota/device/download/${deviceId}${deviceToken}`;
    const result = await httpUpdate(otaDomain, path, this.running, {
      mac: this.options.mac,
      freeSpace: this.options.freeSpace,
    });
    if (result.ok) return this.reboot(result.image);
    this.events.push({ kind: 'download-failed', status: result.status, reason: result.reason });
    // HTTP_UPDATE_FAILED and HTTP_UPDATE_NO_UPDATES (a 304) both answer 203.
    this.respond(203);
  }

  /** ESP.restart(): the new image runs if it boots; otherwise ESP-IDF rolls back to the old one. */
  private async reboot(image: Buffer): Promise<void> {
    await this.shutdownMqtt();
    const rolledBack = !this.options.boots(image);
    if (!rolledBack) this.running = image;
    this.events.push({ kind: 'rebooted', version: this.version, rolledBack });
    await sleep(this.options.bootMs);
    if (!this.stopped) await this.start();
  }
}

/** IoTaaP OS reads `ver` from a 128-byte JSON document; a missing `ver` reads as "null". */
function parseVer(body: string): string {
  try {
    if (Buffer.byteLength(body) > 128) return 'null';
    const ver = (JSON.parse(body) as { ver?: unknown }).ver;
    return ver === undefined || ver === null ? 'null' : String(ver);
  } catch {
    return 'null';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
