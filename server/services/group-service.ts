import { Messages, badRequest, notFound } from '../errors.js';
import { OBJECT_ID } from '../../contract/ids.js';
import { newAlphanumericToken, newObjectId, nowIso } from '../ids.js';
import { hashSecret } from '../secrets.js';
import type { Chip } from '../../contract/chips.js';
import type { Db } from '../storage/sqlite/database.js';
import type { DeviceStore } from '../storage/sqlite/devices.js';
import type { FirmwareStore } from '../storage/firmware-store.js';
import type { Group, GroupStore } from '../storage/sqlite/groups.js';
import type { ListPage, ListQuery } from '../storage/list-query.js';
import type { OtaStore } from '../storage/sqlite/otas.js';

/** Group tokens are generated like device tokens: 16 letters and digits, shown once. */
const GROUP_TOKEN_LENGTH = 16;
const MAX_NAME_LENGTH = 100;

/** IoTaaP's groups: devices that are served one firmware through the group's own URLs. */
export class GroupService {
  constructor(
    private readonly db: Db,
    private readonly groups: GroupStore,
    private readonly devices: DeviceStore,
    private readonly otas: OtaStore,
    private readonly files: FirmwareStore,
  ) {}

  /** Creates a group; its token is returned this once. `chip` guards its uploads from the start. */
  create(owner: string, name?: string, chip?: Chip): { group: Group; token: string } {
    const id = newObjectId();
    const token = newAlphanumericToken(GROUP_TOKEN_LENGTH);
    const group = {
      id,
      owner,
      name: name === undefined ? `group-${id.slice(-6)}` : validName(name),
      tokenHash: hashSecret(token),
      createdAt: nowIso(),
      chip: chip ?? null,
    };
    this.groups.insert(group);
    return { group: { ...group, currentOtaId: null, version: null, deviceCount: 0 }, token };
  }

  /** The caller's group; another owner's group is as missing as an unknown one. */
  get(owner: string, id: string): Group {
    const group = OBJECT_ID.test(id) ? this.groups.byId(id) : undefined;
    if (!group || group.owner !== owner) throw notFound(Messages.noSuchGroup);
    return group;
  }

  list(owner: string, query: ListQuery): ListPage<Group> {
    return this.groups.list(owner, query);
  }

  rename(owner: string, id: string, name: string): Group {
    const group = this.get(owner, id);
    const valid = validName(name);
    this.groups.rename(id, valid);
    return { ...group, name: valid };
  }

  rotateToken(owner: string, id: string): string {
    this.get(owner, id);
    const token = newAlphanumericToken(GROUP_TOKEN_LENGTH);
    this.groups.setTokenHash(id, hashSecret(token));
    return token;
  }

  /**
   * Removes the group and its firmware records (its devices stay, outside any group), then its
   * files: a crash in between leaves only orphan files, never records without bytes.
   */
  delete(owner: string, id: string): void {
    this.get(owner, id);
    this.db.transaction(() => {
      this.otas.deleteTarget('group', id);
      this.devices.leaveGroup(id);
      this.groups.delete(id);
    })();
    this.files.removeTarget('group', id);
  }
}

function validName(name: string): string {
  if (name.trim() === '' || name.length > MAX_NAME_LENGTH) {
    throw badRequest(Messages.groupNameInvalid);
  }
  return name.trim();
}
