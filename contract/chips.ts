/** The chips an operator may name (API, CLI), in the order messages list them. */
export const KNOWN_CHIPS = [
  'esp32',
  'esp32s2',
  'esp32s3',
  'esp32c2',
  'esp32c3',
  'esp32c6',
  'esp32h2',
  'esp32p4',
  'esp8266',
] as const;

/**
 * The chips an image header can name (see DEVICES.md), as the image parser spells them; an
 * ESP32-family chip id this list does not know yet reads as `esp32-chip-<id>`.
 */
export type Chip = (typeof KNOWN_CHIPS)[number] | `esp32-chip-${number}`;

/** The chip id of an ESP32-family image header (esp_chip_id_t in ESP-IDF). */
const CHIP_IDS: Readonly<Record<number, Chip>> = {
  0: 'esp32',
  2: 'esp32s2',
  5: 'esp32c3',
  9: 'esp32s3',
  12: 'esp32c2',
  13: 'esp32c6',
  16: 'esp32h2',
  18: 'esp32p4',
};

/** The chip an ESP32-family image header's chip id names. */
export function chipOfImageId(chipId: number): Chip {
  return CHIP_IDS[chipId] ?? `esp32-chip-${chipId}`;
}

/**
 * A chip as an operator writes it ("esp32s3", "ESP32-S3", "esp32_s3") in the parser's spelling,
 * or undefined when it is not one of KNOWN_CHIPS.
 */
export function parseChip(text: string): Chip | undefined {
  const normalized = text.trim().toLowerCase().replace(/[-_ ]/g, '');
  return KNOWN_CHIPS.find((chip) => chip === normalized);
}

/** 'esp32s3' -> 'ESP32-S3', 'esp8266' -> 'ESP8266', 'esp32-chip-23' -> 'ESP32 family (chip id 23)'. */
export function chipLabel(chip: string): string {
  const unknown = /^esp32-chip-(\d+)$/.exec(chip);
  if (unknown) return `ESP32 family (chip id ${unknown[1]})`;
  const variant = /^esp32([a-z]\d+)$/.exec(chip);
  if (variant) return `ESP32-${variant[1].toUpperCase()}`;
  return /^esp\d+$/.test(chip) ? chip.toUpperCase() : chip;
}
