import type { FileHandle } from 'node:fs/promises';
import { Messages, conflict, forbidden, notFound } from '../errors.js';
import { OBJECT_ID, newObjectId, nowIso } from '../ids.js';
import type { EspImageInfo } from '../image/esp-image.js';
import type { Db } from '../storage/database.js';
import type { DeviceStore } from '../storage/devices.js';
import { FirmwareFiles } from '../storage/firmware-files.js';
import type { ListPage, ListQuery } from '../storage/list-query.js';
import type { CurrentOta, Ota, OtaStore } from '../storage/otas.js';
import type { DeviceService } from './device-service.js';

/** An upload that has fully arrived in tmp/, hashed and validated while it streamed. */
export interface ReceivedFirmware {
  tempPath: string;
  size: number;
  sha256: string;
  md5: string;
  image: EspImageInfo;
}

export interface DeployRequest {
  owner: string;
  deviceId: string;
  token: string;
  version: string;
  firmware: ReceivedFirmware;
}

/** `deployed`: now served (201). `already-deployed`: the same bytes were already served (200). */
export type DeployOutcome = { result: 'deployed' | 'already-deployed'; ota: Ota };

export interface Download {
  ota: Ota;
  /** Open on the file; the caller closes it (streaming does). */
  handle: FileHandle;
}

export class OtaService {
  constructor(
    private readonly db: Db,
    private readonly devices: DeviceStore,
    private readonly otas: OtaStore,
    private readonly files: FirmwareFiles,
    private readonly deviceService: DeviceService,
    private readonly historyDepth: number,
  ) {}

  /**
   * Makes an upload the firmware a device is served. All checks, the rename and the records
   * happen in one synchronous IMMEDIATE transaction, so concurrent uploads (even from another
   * process on the same data) are serialized and `latest` always names the bytes `download`
   * returns.
   */
  deploy(request: DeployRequest): DeployOutcome {
    const { owner, deviceId, token, version, firmware } = request;
    const device = this.deviceService.get(owner, deviceId);
    if (!this.deviceService.tokenMatches(device, token)) throw forbidden(Messages.deviceTokenInvalid);

    const pruned: string[] = [];
    const outcome = this.db
      .transaction((): DeployOutcome => {
        const now = nowIso();
        const current = this.otas.currentOfDevice(deviceId);
        if (current?.version === version) {
          if (current.sha256 === firmware.sha256) return { result: 'already-deployed', ota: current };
          throw conflict(Messages.versionConflict(version));
        }
        // A version names one set of bytes forever: devices that run it must not differ.
        const kept = this.otas.byVersion('device', deviceId, version);
        if (kept && kept.sha256 !== firmware.sha256) throw conflict(Messages.versionConflict(version));

        let ota: Ota;
        if (kept) {
          ota = { ...kept, lastUpdated: now };
          this.otas.touch(kept.id, now);
        } else {
          const key = FirmwareFiles.keyFor('device', deviceId, version);
          this.files.commit(firmware.tempPath, key);
          ota = {
            id: newObjectId(),
            targetKind: 'device',
            targetId: deviceId,
            owner,
            version,
            path: key,
            size: firmware.size,
            sha256: firmware.sha256,
            md5: firmware.md5,
            chip: firmware.image.chip,
            createdAt: now,
            lastUpdated: now,
          };
          this.otas.insert(ota);
        }
        this.devices.setCurrent(deviceId, ota.id, now);
        for (const old of this.otas.history('device', deviceId).slice(this.historyDepth)) {
          this.otas.delete(old.id);
          pruned.push(old.path);
        }
        return { result: 'deployed', ota };
      })
      .immediate();
    // Files go only after the records that named them are gone (a crash here leaves orphans, never dangling records).
    for (const key of pruned) this.files.remove(key);
    return outcome;
  }

  /** What `GET /v1/ota/device/latest/{id}` answers: the version served, no auth. */
  latestVersion(deviceId: string): string {
    const device = OBJECT_ID.test(deviceId) ? this.devices.byId(deviceId) : undefined;
    if (!device) throw notFound(Messages.noSuchDevice);
    const current = this.otas.currentOfDevice(deviceId);
    if (!current) throw notFound(Messages.noFirmwareAvailable);
    return current.version;
  }

  /**
   * Resolves `<id><token>` from a download URL to the served firmware, opened. A wrong id and a
   * wrong token answer the same, so the URL does not tell which devices exist.
   */
  async openDownload(idAndToken: string): Promise<Download> {
    const deviceId = idAndToken.slice(0, 24);
    const token = idAndToken.slice(24);
    const device = OBJECT_ID.test(deviceId) ? this.devices.byId(deviceId) : undefined;
    if (!device || token === '' || !this.deviceService.tokenMatches(device, token)) {
      throw notFound(Messages.noSuchDevice);
    }
    // An upload may prune the file between the lookup and the open: look again once.
    for (let attempt = 0; ; attempt++) {
      const ota = this.otas.currentOfDevice(deviceId);
      if (!ota) throw notFound(Messages.noFirmwareAvailable);
      try {
        return { ota, handle: await this.files.open(ota.path) };
      } catch (err) {
        if (attempt > 0 || (err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
  }

  listCurrent(owner: string, query: ListQuery): ListPage<CurrentOta> {
    return this.otas.listDeviceCurrent(owner, query);
  }
}
