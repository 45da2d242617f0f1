import { HttpError, Messages, badRequest, notFound } from '../errors.js';
import { ALPHANUMERIC_TOKEN, OBJECT_ID, newAlphanumericToken, newObjectId, nowIso } from '../ids.js';
import { hashSecret, secretMatches } from '../secrets.js';
import type { Device, DeviceStore } from '../storage/devices.js';
import type { FirmwareFiles } from '../storage/firmware-files.js';
import type { ListPage, ListQuery } from '../storage/list-query.js';
import type { OtaStore } from '../storage/otas.js';
import type { Db } from '../storage/database.js';

/** Tokens this registry generates; devices imported from IoTaaP keep theirs (12 characters). */
export const DEVICE_TOKEN_LENGTH = 16;
const MAX_NAME_LENGTH = 100;

export class DeviceService {
  constructor(
    private readonly db: Db,
    private readonly devices: DeviceStore,
    private readonly otas: OtaStore,
    private readonly files: FirmwareFiles,
  ) {}

  /**
   * Registers a device and returns its token, shown this once. `imported` keeps the id and
   * token a device already carries (moving a fleet from IoTaaP without re-flashing it).
   */
  create(owner: string, name?: string, imported?: { id: string; token: string }): { device: Device; token: string } {
    if (name !== undefined && (typeof name !== 'string' || name.length > MAX_NAME_LENGTH)) {
      throw badRequest(Messages.deviceNameInvalid);
    }
    if (imported && !OBJECT_ID.test(imported.id)) throw badRequest(Messages.deviceIdInvalid);
    if (imported && !ALPHANUMERIC_TOKEN.test(imported.token)) {
      throw badRequest('Device token must be 8 to 64 letters and digits');
    }
    const id = imported?.id ?? newObjectId();
    if (this.devices.byId(id)) throw new HttpError(409, `A device ${id} already exists`);
    const token = imported?.token ?? newAlphanumericToken(DEVICE_TOKEN_LENGTH);
    const device = {
      id,
      owner,
      name: name?.trim() || `device-${id.slice(-6)}`,
      tokenHash: hashSecret(token),
      createdAt: nowIso(),
    };
    this.devices.insert(device);
    return { device: { ...device, lastContact: null, currentOtaId: null }, token };
  }

  /** The caller's device; another owner's device is as missing as an unknown one. */
  get(owner: string, id: string): Device {
    const device = OBJECT_ID.test(id) ? this.devices.byId(id) : undefined;
    if (!device || device.owner !== owner) throw notFound(Messages.noSuchDevice);
    return device;
  }

  list(owner: string, query: ListQuery): ListPage<Device> {
    return this.devices.list(owner, query);
  }

  all(owner: string): Device[] {
    return this.devices.allOf(owner);
  }

  rename(owner: string, id: string, name: unknown): Device {
    const device = this.get(owner, id);
    if (typeof name !== 'string' || name.trim() === '' || name.length > MAX_NAME_LENGTH) {
      throw badRequest(Messages.deviceNameInvalid);
    }
    this.devices.rename(id, name.trim());
    return { ...device, name: name.trim() };
  }

  rotateToken(owner: string, id: string): string {
    this.get(owner, id);
    const token = newAlphanumericToken(DEVICE_TOKEN_LENGTH);
    this.devices.setTokenHash(id, hashSecret(token));
    return token;
  }

  /** Removes the device, its records and then its files (a crash in between leaves only orphan files). */
  delete(owner: string, id: string): void {
    this.get(owner, id);
    this.db.transaction(() => {
      this.otas.deleteTarget('device', id);
      this.devices.delete(id);
    })();
    this.files.removeTarget('device', id);
  }

  /** Constant-time check of a device token. */
  tokenMatches(device: Device, token: string): boolean {
    return secretMatches(token, device.tokenHash);
  }
}
