import { nowIso } from '../ids.js';
import { logError } from '../log.js';
import type { CheckinRow, CheckinStore } from '../storage/sqlite/checkins.js';
import type { Db } from '../storage/sqlite/database.js';

/**
 * What a device says about itself in the headers of `latest` and `download` (the Arduino
 * updater's x-ESP32-* / x-ESP8266-* headers; IoTaaP OS's `latest` call sends none). Fields the
 * request did not carry are absent, never undefined-valued.
 */
export interface DeviceReport {
  /** x-ESP32-version: the version the sketch passed to httpUpdate.update(), when it did. */
  version?: string;
  /** x-ESP32-sketch-md5, lowercased: MD5 of the running sketch. */
  md5?: string;
  /** x-ESP32-STA-MAC, uppercased. */
  mac?: string;
  freeSpace?: number;
  sdkVersion?: string;
  /** x-ESP32-mode: `sketch` (the application) or `spiffs` (a file system image). */
  mode?: string;
}

interface Pending {
  /** Known from a device URL; absent for a group URL (resolved by MAC when flushed). */
  deviceId?: string;
  groupId?: string;
  at: string;
  report: DeviceReport;
}

/** How long check-ins wait in memory before they are written together. */
const CHECKIN_FLUSH_MS = 1000;

/**
 * Records device check-ins without a database write on the device's request: the latest
 * check-in per device waits in memory and all of them are written in one transaction about
 * once a second, and on close(). A crash loses at most that second of last-contact times,
 * which the next check-in restores; firmware records are never involved.
 */
export class CheckinRecorder {
  private pending = new Map<string, Pending>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Db,
    private readonly store: CheckinStore,
    private readonly intervalMs: number = CHECKIN_FLUSH_MS,
  ) {}

  /**
   * A device called its own `latest` URL: alive, nothing more. The request carries no secret,
   * so it reports nothing (anyone who knows the id may make it).
   */
  contact(deviceId: string, now: number = Date.now()): void {
    this.add(`d:${deviceId}`, { deviceId, at: nowIso(now), report: {} });
  }

  /** A device's own download URL, with its token: the updater's headers are its report. */
  device(deviceId: string, report: DeviceReport, now: number = Date.now()): void {
    this.add(`d:${deviceId}`, { deviceId, at: nowIso(now), report });
  }

  /**
   * A device downloaded from a group URL, with the group's token, which carries no device id.
   * It is recorded only when it sends a station MAC that a member of that group reported before
   * on its own download URL; otherwise there is no way to tell which device it was, and nothing
   * is recorded. Every member holds the group token, so this trusts a member to name itself.
   */
  group(groupId: string, report: DeviceReport, now: number = Date.now()): void {
    if (report.mac === undefined) return;
    this.add(`g:${groupId}:${report.mac}`, { groupId, at: nowIso(now), report });
  }

  /** Writes every waiting check-in in one transaction. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const entries = [...this.pending.values()];
    this.pending = new Map();
    this.db.transaction(() => {
      if (!this.store.batched) {
        // One after another: a group check-in finds a member by the MAC an earlier one wrote.
        for (const entry of entries) {
          const row = this.resolve(entry);
          if (row) this.store.update(row);
        }
        return;
      }
      const rows: CheckinRow[] = [];
      for (const entry of entries) {
        const row = this.resolve(entry);
        if (row) rows.push(row);
      }
      this.store.updateAll(rows);
    })();
  }

  /** Stops the timer and writes what is waiting (the server calls this before closing the database). */
  close(): void {
    this.flush();
  }

  private add(key: string, entry: Pending): void {
    const earlier = this.pending.get(key);
    // Keep what an earlier request in the same window said unless this one says otherwise.
    this.pending.set(
      key,
      earlier ? { ...entry, report: { ...earlier.report, ...entry.report } } : entry,
    );
    if (!this.timer) {
      this.timer = setTimeout(() => this.flushLogged(), this.intervalMs);
      this.timer.unref();
    }
  }

  private flushLogged(): void {
    try {
      this.flush();
    } catch (err) {
      // Check-ins are best effort: the next one from the same device restores the state.
      logError('error writing device check-ins', err);
    }
  }

  /** The row a pending check-in writes; undefined for a group's MAC no member reported. */
  private resolve({ deviceId: knownId, groupId, at, report }: Pending): CheckinRow | undefined {
    const deviceId =
      knownId ??
      (groupId && report.mac ? this.store.deviceByGroupMac(groupId, report.mac) : undefined);
    if (!deviceId) return;
    const reported = report.md5 !== undefined || report.version !== undefined;
    // The MD5 names the bytes it runs whatever its version string says; fall back to the header.
    const mapped =
      report.md5 !== undefined ? this.store.versionByMd5(deviceId, report.md5) : undefined;
    return {
      deviceId,
      at,
      reported,
      runningVersion: mapped ?? report.version ?? null,
      runningMd5: report.md5 ?? null,
      mac: report.mac ?? null,
      freeSpace: report.freeSpace ?? null,
      sdkVersion: report.sdkVersion ?? null,
    };
  }
}
