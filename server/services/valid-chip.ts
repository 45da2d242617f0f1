import { parseChip, type Chip } from '../../contract/chips.js';
import { Messages, badRequest } from '../errors.js';

/** A chip given by an operator (API or CLI); 400 naming the known ones otherwise. */
export function validChip(chip: unknown): Chip {
  const parsed = typeof chip === 'string' ? parseChip(chip) : undefined;
  if (!parsed) throw badRequest(Messages.chipInvalid(String(chip)));
  return parsed;
}
