import { Messages, badRequest } from '../../errors.js';
import { parseChipField } from './chip.js';
import { parseForce } from './force.js';
import type { Chip } from '../../../contract/chips.js';
import type { DeviceChanges } from '../../services/device-service.js';

/** `POST /v1/devices {"name", "chip"}`: both optional; the service checks the name's length. */
export function parseNewDevice(body: Record<string, unknown>): { name?: string; chip?: Chip } {
  const { name, chip } = body;
  if (name !== undefined && typeof name !== 'string') throw badRequest(Messages.deviceNameInvalid);
  return { name, chip: parseChipField(chip) };
}

/**
 * `PUT /v1/devices/{id} {"name", "group", "force"}`. IoTaaP's dashboard leaves a group with the
 * string "undefined"; null and "" leave it too.
 */
export function parseDeviceChanges(body: Record<string, unknown>): DeviceChanges {
  const { name, group, force } = body;
  if (name !== undefined && typeof name !== 'string') throw badRequest(Messages.deviceNameInvalid);
  return { name, group: parseGroupField(group), force: parseForce(force) };
}

function parseGroupField(group: unknown): string | null | undefined {
  if (group === undefined) return undefined;
  if (group === null || group === 'undefined' || group === '') return null;
  if (typeof group !== 'string') throw badRequest(Messages.groupFieldInvalid);
  return group;
}
