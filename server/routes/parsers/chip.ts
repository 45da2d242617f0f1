import { parseChip, type Chip } from '../../../contract/chips.js';
import { Messages, badRequest } from '../../errors.js';

/**
 * A body's `chip` as an operator writes it ("esp32s3", "ESP32-S3"): undefined when absent or
 * null, 400 naming the known chips otherwise.
 */
export function parseChipField(value: unknown): Chip | undefined {
  if (value === undefined || value === null) return undefined;
  const chip = typeof value === 'string' ? parseChip(value) : undefined;
  if (!chip) throw badRequest(Messages.chipInvalid(String(value)));
  return chip;
}
