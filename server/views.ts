import type { ListPage } from './storage/list-query.js';
import { updateState } from './services/device-service.js';
import type { Device } from './storage/sqlite/devices.js';
import type { Group } from './storage/sqlite/groups.js';
import type { Ota } from './storage/sqlite/otas.js';
import type { User } from './storage/sqlite/users.js';

/**
 * The JSON shapes IoTaaP's API answers with (`_id`, `__v`, snake_case times). Tokens and
 * their hashes never appear here.
 */
export function deviceView(device: Device) {
  return {
    ...newDeviceView(device),
    ...(device.groupId !== null ? { group: device.groupId } : {}),
    chip: device.chip,
    version: device.servedVersion,
    running_version: device.runningVersion,
    running_version_source: device.runningVersionSource,
    uptime: device.uptime,
    last_update_response: device.updateResponse,
    update_state: updateState(device),
    mac: device.mac,
    free_space: device.freeSpace,
    sdk_version: device.sdkVersion,
  };
}

/**
 * A device as `POST /v1/devices` answers (beside its token): IoTaaP's flat shape, plus the chip
 * when one was given. Check-in fields say nothing yet about a device that was just created.
 */
export function newDeviceView(device: Device) {
  return {
    _id: device.id,
    name: device.name,
    owner: device.owner,
    created_at: device.createdAt,
    last_contact: device.lastContact,
    __v: 0,
    ...(device.chip !== null ? { chip: device.chip } : {}),
  };
}

/** `GET /v1/account`: the caller, never a password hash or a key. */
export function accountView(user: User) {
  return { id: user.id, email: user.email, role: user.role, mqtt_user: user.mqttUser };
}

export function groupView(group: Group) {
  return {
    _id: group.id,
    name: group.name,
    owner: group.owner,
    created_at: group.createdAt,
    __v: 0,
    chip: group.chip,
    version: group.version,
    devices: group.deviceCount,
  };
}

export function otaView(ota: Ota) {
  return {
    _id: ota.id,
    ...(ota.targetKind === 'group' ? { group: ota.targetId } : { device: ota.targetId }),
    __v: 0,
    last_updated: ota.lastUpdated,
    owner: ota.owner,
    path: ota.path,
    version: ota.version,
    size: ota.size,
    sha256: ota.sha256,
    md5: ota.md5,
    chip: ota.chip,
    /** The OTA clients the image carries, e.g. ["iotaap-os"]; [] none; null unknown. */
    ota_client: ota.otaClient,
  };
}

/** IoTaaP's DataTables-style list envelope: the rows under `key`, the counts, `draw` echoed. */
export function listView<T, V>(
  key: string,
  page: ListPage<T>,
  view: (row: T) => V,
  draw: string | null,
): Record<string, unknown> {
  return {
    [key]: page.rows.map(view),
    recordsTotal: page.total,
    recordsFiltered: page.filtered,
    draw,
  };
}
