import { Messages, badRequest } from '../server/errors.js';
import type { Chip } from './esp-image.js';

/** The chips an image header can name (see DEVICES.md), as the image parser spells them. */
export const KNOWN_CHIPS: readonly Chip[] = [
  'esp32',
  'esp32s2',
  'esp32s3',
  'esp32c2',
  'esp32c3',
  'esp32c6',
  'esp32h2',
  'esp32p4',
  'esp8266',
];

/**
 * A chip as an operator writes it ("esp32s3", "ESP32-S3", "esp32_s3") in the parser's spelling,
 * or undefined when it is not one of KNOWN_CHIPS.
 */
export function parseChip(text: string): Chip | undefined {
  const normalized = text.trim().toLowerCase().replace(/[-_ ]/g, '');
  return KNOWN_CHIPS.find((chip) => chip === normalized);
}

/** A chip given by an operator (API or CLI); 400 naming the known ones otherwise. */
export function validChip(chip: unknown): Chip {
  const parsed = typeof chip === 'string' ? parseChip(chip) : undefined;
  if (!parsed) throw badRequest(Messages.chipInvalid(String(chip)));
  return parsed;
}
