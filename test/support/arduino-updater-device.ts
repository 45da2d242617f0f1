import { compiledVersion, httpUpdate, macFor } from './http-update.js';

/**
 * A simulated ESP32 running a stock Arduino sketch that updates itself with arduino-esp32's
 * HTTPUpdate (written from DEVICES.md and HTTPUpdate.cpp, not from this registry's code):
 *
 * - every poll it calls `httpUpdate.update(client, <download URL>)`: its device URL or its
 *   group's, HTTP/1.0, the x-ESP32-* headers with its station MAC and the running sketch's
 *   MD5 (and x-ESP32-version only when the sketch passes a current version);
 * - 304 is "no updates"; a valid 200 is written and the device reboots (rebootOnUpdate): it
 *   then runs the new image, unless that image does not boot, in which case ESP-IDF's app
 *   rollback boots the old one again;
 * - it has no MQTT: the registry learns what it runs from the headers of its next poll.
 */
export interface ArduinoUpdaterOptions {
  /** The registry's base URL. */
  baseUrl: string;
  /** `/v1/ota/device/download/<id><token>` or `/v1/ota/group/download/<id><token>`. */
  downloadPath: string;
  /** The image it runs at start. */
  image: Buffer;
  /** Station MAC; default derived from the download path and `name`. */
  mac?: string;
  name?: string;
  freeSpace?: number;
  /** The sketch passes its version to update() (x-ESP32-version); most sketches do not. */
  currentVersion?: (image: Buffer) => string;
  /** Whether an image boots; one that does not is rolled back. Default: every image. */
  boots?: (image: Buffer) => boolean;
}

export type UpdaterEvent =
  | { kind: 'no-update' }
  | { kind: 'rebooted'; version: string; rolledBack: boolean }
  | { kind: 'update-failed'; status: number; reason: string };

export class ArduinoUpdaterDevice {
  readonly events: UpdaterEvent[] = [];
  readonly mac: string;
  private running: Buffer;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;

  constructor(private readonly options: ArduinoUpdaterOptions) {
    this.mac = options.mac ?? macFor(`${options.downloadPath}/${options.name ?? ''}`);
    this.running = options.image;
  }

  /** The version compiled into the running image. */
  get version(): string {
    return compiledVersion(this.running);
  }

  /** How many downloads it wrote (rebooted after), good image or bad. */
  get downloads(): number {
    return this.events.filter((event) => event.kind === 'rebooted').length;
  }

  /** One pass of the sketch's update check; resolves after the reboot, if any. */
  async poll(): Promise<UpdaterEvent> {
    const { baseUrl, downloadPath, freeSpace, currentVersion } = this.options;
    const result = await httpUpdate(baseUrl, downloadPath, this.running, {
      mac: this.mac,
      freeSpace: freeSpace ?? 1_966_080,
      version: currentVersion?.(this.running),
    });
    let event: UpdaterEvent;
    if (result.ok) {
      const rolledBack = !(this.options.boots ?? (() => true))(result.image);
      if (!rolledBack) this.running = result.image;
      event = { kind: 'rebooted', version: this.version, rolledBack };
    } else if (result.status === 304) {
      event = { kind: 'no-update' };
    } else {
      event = { kind: 'update-failed', status: result.status, reason: result.reason };
    }
    this.events.push(event);
    return event;
  }

  /** Polls every `intervalMs` (the sketch's loop) until stop(). */
  start(intervalMs: number): void {
    const tick = () => {
      this.polling = this.poll()
        .then(() => undefined)
        .catch(() => undefined)
        .finally(() => {
          if (this.timer) this.timer = setTimeout(tick, intervalMs);
        });
    };
    this.timer = setTimeout(tick, Math.floor(Math.random() * intervalMs));
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.polling;
  }
}
