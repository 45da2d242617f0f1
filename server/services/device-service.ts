import { chipLabel, type Chip } from '../../contract/chips.js';
import { Messages, badRequest, conflict, notFound } from '../errors.js';
import { IMPORTED_TOKEN_LENGTH, OBJECT_ID, TOKEN } from '../../contract/ids.js';
import { newAlphanumericToken, newObjectId, nowIso } from '../ids.js';
import { hashSecret } from '../secrets.js';
import type { Db } from '../storage/sqlite/database.js';
import type { Device, DeviceStore } from '../storage/sqlite/devices.js';
import type { FirmwareStore } from '../storage/firmware-store.js';
import type { GroupStore } from '../storage/sqlite/groups.js';
import type { ListPage, ListQuery } from '../storage/list-query.js';
import type { OtaStore } from '../storage/sqlite/otas.js';
import type { CheckinRecorder } from './checkin-recorder.js';
import type { DeviceReportRecorder } from './device-reports.js';

/** Tokens this registry generates; devices imported from IoTaaP keep theirs (12 characters). */
const DEVICE_TOKEN_LENGTH = 16;
const MAX_NAME_LENGTH = 100;

/** `PUT /v1/devices/{id}`: the fields that may change; absent ones stay as they are. */
export interface DeviceChanges {
  name?: string;
  /** A group id to join; null to leave (routes/parsers/device-body.ts reads IoTaaP's "undefined"). */
  group?: string | null;
  /** Join a group whose chip differs from the device's. */
  force?: boolean;
}

export class DeviceService {
  constructor(
    private readonly db: Db,
    private readonly devices: DeviceStore,
    private readonly otas: OtaStore,
    private readonly files: FirmwareStore,
    private readonly groups: GroupStore,
    private readonly checkins: CheckinRecorder,
    private readonly reports: DeviceReportRecorder,
  ) {}

  /**
   * Registers a device and returns its token, shown this once. `imported` keeps the id and
   * token a device already carries (moving a fleet from IoTaaP without re-flashing it); `chip`
   * guards its uploads from the first one.
   */
  create(
    owner: string,
    name?: string,
    imported?: { id: string; token: string },
    chip?: Chip,
  ): { device: Device; token: string } {
    if (name !== undefined && name.length > MAX_NAME_LENGTH) {
      throw badRequest(Messages.deviceNameInvalid);
    }
    if (imported && !OBJECT_ID.test(imported.id)) throw badRequest(Messages.deviceIdInvalid);
    if (imported && !isImportableToken(imported.token)) {
      throw badRequest(Messages.importedTokenInvalid);
    }
    const id = imported?.id ?? newObjectId();
    if (this.devices.byId(id)) throw conflict(Messages.deviceExists(id));
    const token = imported?.token ?? newAlphanumericToken(DEVICE_TOKEN_LENGTH);
    const device = {
      id,
      owner,
      name: name?.trim() || `device-${id.slice(-6)}`,
      tokenHash: hashSecret(token),
      createdAt: nowIso(),
      chip: chip ?? null,
    };
    this.devices.insert(device);
    return {
      device: {
        ...device,
        lastContact: null,
        currentOtaId: null,
        groupId: null,
        runningVersion: null,
        runningMd5: null,
        mac: null,
        freeSpace: null,
        sdkVersion: null,
        runningVersionSource: null,
        uptime: null,
        updateResponse: null,
        servedVersion: null,
      },
      token,
    };
  }

  /** The caller's device, with its latest check-in; another owner's is as missing as an unknown one. */
  get(owner: string, id: string): Device {
    this.flushReports();
    return this.find(owner, id);
  }

  /** The owner's devices, or only the members of one of the owner's groups. */
  list(owner: string, query: ListQuery, group: string | null = null): ListPage<Device> {
    this.flushReports();
    return group === null
      ? this.devices.list(owner, query)
      : this.devices.listInGroup(owner, group, query);
  }

  all(owner: string): Device[] {
    this.flushReports();
    return this.devices.allOf(owner);
  }

  /** Renames and/or moves the device between groups; every change is checked before any is made. */
  update(owner: string, id: string, changes: DeviceChanges): Device {
    const device = this.find(owner, id);
    if (changes.name === undefined && changes.group === undefined) {
      throw badRequest(Messages.deviceNameInvalid);
    }
    const name = changes.name === undefined ? undefined : validName(changes.name);
    const groupId =
      changes.group === undefined
        ? undefined
        : this.groupToJoin(owner, device, changes.group, changes.force);
    this.db.transaction(() => {
      if (name !== undefined) this.devices.rename(id, name);
      if (groupId !== undefined) this.devices.setGroup(id, groupId);
    })();
    return this.find(owner, id);
  }

  rotateToken(owner: string, id: string): string {
    this.find(owner, id);
    const token = newAlphanumericToken(DEVICE_TOKEN_LENGTH);
    this.devices.setTokenHash(id, hashSecret(token));
    return token;
  }

  /** Removes the device, its records and then its files (a crash in between leaves only orphan files). */
  delete(owner: string, id: string): void {
    this.find(owner, id);
    this.db.transaction(() => {
      this.otas.deleteTarget('device', id);
      this.devices.delete(id);
    })();
    this.files.removeTarget('device', id);
  }

  /** What devices said (HTTP check-ins, MQTT reports) and is still in memory, written first. */
  private flushReports(): void {
    this.checkins.flush();
    this.reports.flush();
  }

  private find(owner: string, id: string): Device {
    const device = OBJECT_ID.test(id) ? this.devices.byId(id) : undefined;
    if (!device || device.owner !== owner) throw notFound(Messages.noSuchDevice);
    return device;
  }

  /**
   * The group id to set (null: leave).
   * A device whose chip is known does not join a group whose firmware is for another chip:
   * the group's next download would flash it with the wrong image.
   */
  private groupToJoin(
    owner: string,
    device: Device,
    groupId: string | null,
    force = false,
  ): string | null {
    if (groupId === null) return null;
    if (!OBJECT_ID.test(groupId)) throw badRequest(Messages.groupIdInvalid);
    const group = this.groups.byId(groupId);
    if (!group || group.owner !== owner) throw notFound(Messages.noSuchGroup);
    if (device.chip && group.chip && device.chip !== group.chip && !force) {
      throw conflict(Messages.chipMismatchJoin(chipLabel(device.chip), chipLabel(group.chip)));
    }
    return groupId;
  }
}

function validName(name: string): string {
  if (name.trim() === '' || name.length > MAX_NAME_LENGTH) {
    throw badRequest(Messages.deviceNameInvalid);
  }
  return name.trim();
}

export type UpdateState = 'up-to-date' | 'pending' | 'unknown';

/**
 * How far a release has reached this device: `up-to-date` when what it last said it runs is
 * the version it is served, `pending` when both are known and differ, `unknown` otherwise.
 */
export function updateState(device: Device): UpdateState {
  if (device.runningVersion === null || device.servedVersion === null) return 'unknown';
  return device.runningVersion === device.servedVersion ? 'up-to-date' : 'pending';
}

function isImportableToken(token: string): boolean {
  const { min, max } = IMPORTED_TOKEN_LENGTH;
  return TOKEN.test(token) && token.length >= min && token.length <= max;
}
