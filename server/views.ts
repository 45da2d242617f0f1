import type { Device } from './storage/devices.js';
import type { Ota } from './storage/otas.js';

/**
 * The JSON shapes IoTaaP's API answers with (`_id`, `__v`, snake_case times). Tokens and
 * their hashes never appear here.
 */
export function deviceView(device: Device) {
  return {
    _id: device.id,
    name: device.name,
    owner: device.owner,
    created_at: device.createdAt,
    last_contact: device.lastContact,
    __v: 0,
  };
}

export function otaView(ota: Ota) {
  return {
    _id: ota.id,
    device: ota.targetId,
    __v: 0,
    last_updated: ota.lastUpdated,
    owner: ota.owner,
    path: ota.path,
    version: ota.version,
    size: ota.size,
    sha256: ota.sha256,
    md5: ota.md5,
    chip: ota.chip,
  };
}
