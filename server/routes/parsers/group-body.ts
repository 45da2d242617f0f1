import { Messages, badRequest } from '../../errors.js';
import { parseChipField } from './chip.js';
import type { Chip } from '../../../contract/chips.js';

/** `POST /v1/groups {"name", "chip"}`: both optional; the service checks the name's length. */
export function parseNewGroup(body: Record<string, unknown>): { name?: string; chip?: Chip } {
  const { name, chip } = body;
  return {
    name: name === undefined ? undefined : parseGroupName(body),
    chip: parseChipField(chip),
  };
}

/** `PUT /v1/groups/{id} {"name"}`: the name is required. */
export function parseGroupName(body: Record<string, unknown>): string {
  if (typeof body.name !== 'string') throw badRequest(Messages.groupNameInvalid);
  return body.name;
}
