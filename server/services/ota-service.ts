import { Messages, conflict, forbidden, notFound } from '../errors.js';
import { OBJECT_ID } from '../../contract/ids.js';
import { newObjectId, nowIso } from '../ids.js';
import { chipLabel } from '../../contract/chips.js';
import type { EspImageInfo } from '../../contract/esp-image.js';
import type { OtaClient } from '../../contract/ota-client.js';
import { secretMatches } from '../secrets.js';
import type { Db } from '../storage/sqlite/database.js';
import type { DeviceStore } from '../storage/sqlite/devices.js';
import { firmwareKey, type FirmwareBody, type FirmwareStore } from '../storage/firmware-store.js';
import type { GroupStore } from '../storage/sqlite/groups.js';
import type { ListPage, ListQuery } from '../storage/list-query.js';
import type { CurrentOta, Ota, OtaStore, TargetKind } from '../storage/sqlite/otas.js';
import type { CheckinRecorder, DeviceReport } from './checkin-recorder.js';

/** An upload fully arrived in tmp/ and staged in the store, hashed and validated as it streamed. */
interface ReceivedFirmware {
  tempPath: string;
  size: number;
  sha256: string;
  md5: string;
  image: EspImageInfo;
  /** The OTA clients whose marks it carries; [] for none. */
  otaClient: OtaClient[];
}

export interface DeployRequest {
  owner: string;
  /** Where the firmware goes: one device, or a group. Default 'device'. */
  kind?: TargetKind;
  /** The device's (or group's) id. */
  targetId: string;
  /**
   * The device's (or group's) token, as IoTaaP's upload requires; null for an upload by the
   * owner's own session or key naming the target in the URL (`POST /v1/ota/device/{id}/firmware`),
   * where the owner's authentication is the proof.
   */
  token: string | null;
  version: string;
  firmware: ReceivedFirmware;
  /**
   * Deploy even when the image is for another chip than the target's (which it then learns), or
   * has no OTA client while the served one has.
   */
  force?: boolean;
}

/** `deployed`: now served (201). `already-deployed`: the same bytes were already served (200). */
export type DeployOutcome = { result: 'deployed' | 'already-deployed'; ota: Ota };

export interface Download {
  ota: Ota;
  /** The bytes; when it is an open file, the caller closes it (streaming does). */
  body: FirmwareBody;
}

export interface History {
  /** The version served now, if any. */
  current: Ota | undefined;
  /** Kept versions, most recently made current first (the served one included). */
  kept: Ota[];
}

/** Picks the record a group download serves while a rollout is open (RolloutService). */
interface GroupDownloadChooser {
  selectDownload(groupId: string, current: Ota, report: DeviceReport, counts: boolean): Ota;
}

/** What devices and groups have in common as targets of firmware. */
interface Target {
  id: string;
  owner: string;
  tokenHash: string;
  chip: string | null;
}

interface TargetStore {
  byId(id: string): Target | undefined;
  setCurrent(id: string, ota: Ota): void;
  setChip(id: string, chip: string): void;
}

/** The API's texts differ only in the noun. */
const TARGET_MESSAGES = {
  device: { missing: Messages.noSuchDevice, badToken: Messages.deviceTokenInvalid },
  group: { missing: Messages.noSuchGroup, badToken: Messages.groupTokenInvalid },
} as const;

/**
 * Firmware records and bytes for devices and groups alike (otas.target_kind): upload, what
 * `latest` and `download` serve, history and rollback.
 */
export class OtaService {
  private readonly targets: Record<TargetKind, TargetStore>;

  constructor(
    private readonly db: Db,
    devices: DeviceStore,
    groups: GroupStore,
    private readonly otas: OtaStore,
    private readonly files: FirmwareStore,
    private readonly checkins: CheckinRecorder,
    private readonly historyDepth: number,
    /** Staged rollouts choose what a group download serves (services/rollout-service.ts). */
    private readonly rollouts?: GroupDownloadChooser,
  ) {
    this.targets = { device: devices, group: groups };
  }

  /**
   * Makes an upload the firmware a device (or group) is served. All checks, the rename and the
   * records happen in one synchronous IMMEDIATE transaction, so concurrent uploads (even from
   * another process on the same data) are serialized and `latest` always names the bytes
   * `download` returns.
   */
  deploy(request: DeployRequest): DeployOutcome {
    const { owner, targetId, token, version, firmware } = request;
    const kind = request.kind ?? 'device';
    const target = this.owned(owner, kind, targetId);
    if (token !== null && !secretMatches(token, target.tokenHash)) {
      throw forbidden(TARGET_MESSAGES[kind].badToken);
    }

    const pruned: string[] = [];
    const outcome = this.db
      .transaction((): DeployOutcome => {
        const now = nowIso();
        const current = this.otas.currentOf(kind, targetId);
        if (current?.version === version) {
          if (current.sha256 === firmware.sha256)
            return { result: 'already-deployed', ota: this.learnOtaClient(current, firmware) };
          throw conflict(Messages.versionConflict(version));
        }
        this.guardChip(kind, targetId, firmware.image.chip, request.force ?? false);
        guardOtaClient(current, firmware.otaClient, request.force ?? false);
        // A version names one set of bytes forever: devices that run it must not differ.
        const kept = this.otas.byVersion(kind, targetId, version);
        if (kept && kept.sha256 !== firmware.sha256)
          throw conflict(Messages.versionConflict(version));

        let ota: Ota;
        if (kept) {
          ota = { ...this.learnOtaClient(kept, firmware), lastUpdated: now };
          this.otas.touch(kept.id, now);
        } else {
          const key = firmwareKey(kind, targetId, version);
          this.files.commit(firmware.tempPath, key);
          ota = {
            id: newObjectId(),
            targetKind: kind,
            targetId,
            owner,
            version,
            path: key,
            size: firmware.size,
            sha256: firmware.sha256,
            md5: firmware.md5,
            chip: firmware.image.chip,
            otaClient: firmware.otaClient,
            createdAt: now,
            lastUpdated: now,
          };
          this.otas.insert(ota);
        }
        this.targets[kind].setCurrent(targetId, ota);
        const older = this.otas.history(kind, targetId).filter((kept) => kept.id !== ota.id);
        for (const old of older.slice(this.historyDepth - 1)) {
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

  /**
   * What `GET /v1/ota/{device|group}/latest/{id}` answers: the version served, no auth. It
   * carries no secret, so it may tell the registry only that the device is alive: a device URL's
   * call touches its last contact (recorded later, in a batch) and nothing else, whatever
   * headers it sends (the trust rule, docs/security.md). A group URL names no device: nothing.
   */
  latestVersion(targetId: string, kind: TargetKind = 'device'): string {
    // Every device polls this: one indexed lookup, no write (the check-in is batched).
    const served = OBJECT_ID.test(targetId) ? this.otas.served(kind, targetId) : undefined;
    if (!served) throw notFound(TARGET_MESSAGES[kind].missing);
    if (kind === 'device') this.checkins.contact(targetId);
    if (served.version === null) throw notFound(Messages.noFirmwareAvailable);
    return served.version;
  }

  /**
   * Resolves `<id><token>` from a download URL to the served firmware, opened. A wrong id and a
   * wrong token answer the same, so the URL does not tell which devices (or groups) exist.
   */
  async openDownload(
    idAndToken: string,
    kind: TargetKind = 'device',
    report: DeviceReport = {},
    head = false,
  ): Promise<Download> {
    const targetId = idAndToken.slice(0, 24);
    const token = idAndToken.slice(24);
    const target = OBJECT_ID.test(targetId) ? this.otas.served(kind, targetId) : undefined;
    if (!target || token === '' || !secretMatches(token, target.tokenHash)) {
      throw notFound(TARGET_MESSAGES[kind].missing);
    }
    // The token was right: what the updater's headers say about the device is its own report.
    if (kind === 'device') this.checkins.device(targetId, report);
    else this.checkins.group(targetId, report);
    // An upload may prune the file between the lookup and the open: look again once.
    for (let attempt = 0; ; attempt++) {
      const current = this.otas.currentOf(kind, targetId);
      if (!current) throw notFound(Messages.noFirmwareAvailable);
      const ota =
        kind === 'group' && this.rollouts
          ? this.rollouts.selectDownload(targetId, current, report, !head)
          : current;
      try {
        return { ota, body: await this.files.body(ota.path, ota.sha256, ota.size) };
      } catch (err) {
        if (attempt > 0 || (err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
  }

  listCurrent(owner: string, query: ListQuery, kind: TargetKind = 'device'): ListPage<CurrentOta> {
    return this.otas.listCurrent(kind, owner, query);
  }

  /** The caller's device's (or group's) kept versions. */
  history(owner: string, kind: TargetKind, targetId: string): History {
    this.owned(owner, kind, targetId);
    return {
      current: this.otas.currentOf(kind, targetId),
      kept: this.otas.history(kind, targetId),
    };
  }

  /**
   * Serves a kept version again. It becomes the most recent entry of the history, so the next
   * uploads prune the versions it replaced before it. The chip and OTA client guards apply as
   * for uploads.
   */
  rollback(owner: string, kind: TargetKind, targetId: string, version: string, force = false): Ota {
    this.owned(owner, kind, targetId);
    return this.db
      .transaction((): Ota => {
        const kept = this.otas.byVersion(kind, targetId, version);
        if (!kept) throw notFound(Messages.versionNotKept(version));
        if (kept.chip) this.guardChip(kind, targetId, kept.chip, force);
        guardOtaClient(this.otas.currentOf(kind, targetId), kept.otaClient, force);
        const now = nowIso();
        const served = { ...kept, lastUpdated: now };
        this.otas.touch(kept.id, now);
        this.targets[kind].setCurrent(targetId, served);
        return served;
      })
      .immediate();
  }

  /** The caller's device or group; another owner's is as missing as an unknown one. */
  private owned(owner: string, kind: TargetKind, targetId: string): Target {
    const target = OBJECT_ID.test(targetId) ? this.targets[kind].byId(targetId) : undefined;
    if (!target || target.owner !== owner) throw notFound(TARGET_MESSAGES[kind].missing);
    return target;
  }

  /**
   * Inside the deploy transaction: a target learns its chip from its first upload; afterwards an
   * image for another chip is refused (flashing it fails with "mismatch chip ID" or bricks the
   * update) unless forced, in which case the target learns the new chip.
   */
  private guardChip(kind: TargetKind, targetId: string, chip: string, force: boolean): void {
    const known = this.targets[kind].byId(targetId)?.chip ?? null;
    if (known === chip) return;
    if (known !== null && !force) {
      throw conflict(Messages.chipMismatch(kind, chipLabel(known), chipLabel(chip)));
    }
    this.targets[kind].setChip(targetId, chip);
  }

  /**
   * The same bytes uploaded again tell what a record from before clients were recorded (null)
   * carries: a re-run of the CI job that built it makes the unknown known.
   */
  private learnOtaClient(ota: Ota, firmware: ReceivedFirmware): Ota {
    if (ota.otaClient !== null) return ota;
    this.otas.setOtaClient(ota.id, firmware.otaClient);
    return { ...ota, otaClient: firmware.otaClient };
  }
}

/**
 * Inside the deploy (or rollback) transaction: the firmware served now has an OTA client and
 * the new one has none, so devices that install it could never be updated remotely again.
 * Refused unless forced. A record from before clients were recorded (null) proves nothing
 * either way, so it never blocks: the guard must not lock an operator out on unknown data.
 */
function guardOtaClient(
  current: Ota | undefined,
  incoming: readonly OtaClient[] | null,
  force: boolean,
): void {
  const servedHasClient = (current?.otaClient?.length ?? 0) > 0;
  if (servedHasClient && incoming?.length === 0 && !force) {
    throw conflict(Messages.otaClientMissing);
  }
}
