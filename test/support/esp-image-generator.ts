import { createCipheriv, createHash } from 'node:crypto';
import type { Chip } from '../../contract/chips.js';

/**
 * Builds valid ESP application images for tests and benchmarks: correct header, segments,
 * checksum and appended SHA-256, as `esptool.py image_info` would accept them. The images are
 * not bootable (segment contents are pseudo-random), and no npm dependency is used so that
 * benchmarks can import this file too.
 */
export interface GenerateOptions {
  /** Default 'esp32'. 'esp8266' gives the Arduino layout: eboot image, 0xAA to 0x1000, app. */
  chip?: Chip;
  /**
   * Exact total size in bytes (default 64 KiB). Every ESP image is a multiple of 16 bytes (the
   * checksum ends a 16-byte block), so other sizes throw a RangeError, as do sizes too small
   * for the requested segments or above 16 MiB.
   */
  size?: number;
  /** Segment count of the (app) image, 1..16; default 3. */
  segments?: number;
  /**
   * Write an `esp_app_desc_t` at 0x20 (ESP32 family only). Default true for the ESP32 family;
   * false gives the older layout without a descriptor.
   */
  appDesc?: boolean;
  /** esp_app_desc_t.version, at most 32 bytes; default '1.0.0'. ESP32 family only. */
  appVersion?: string;
  /** esp_app_desc_t.project_name, at most 32 bytes; default 'test-app'. ESP32 family only. */
  projectName?: string;
  /** esp_app_desc_t.idf_ver, at most 32 bytes; default 'v5.1.2'. ESP32 family only. */
  idfVersion?: string;
  /** Seed for the pseudo-random segment contents; different seeds give different bytes. */
  seed?: number;
  /** Append the SHA-256 of the image (header byte 23); default true, ESP32 family only. */
  hashAppended?: boolean;
  /** ASCII text (plus a NUL) placed inside segment data, like a compiled-in version literal. */
  embedString?: string;
}

const CHIP_IDS: Partial<Record<string, number>> = {
  esp32: 0,
  esp32s2: 2,
  esp32c3: 5,
  esp32s3: 9,
  esp32c2: 12,
  esp32c6: 13,
  esp32h2: 16,
  esp32p4: 18,
};

/** Load addresses of the first (DROM, holds the app descriptor) and the following segments. */
const ADDRESSES: Partial<Record<string, number[]>> = {
  esp32: [0x3f400020, 0x3ffb0000, 0x40080000, 0x400d0020],
  esp32s2: [0x3f000020, 0x3ffbe000, 0x40022000, 0x40080020],
  esp32s3: [0x3c000020, 0x3fc88000, 0x40370000, 0x42000020],
  esp32c3: [0x3c000020, 0x3fc80000, 0x40380000, 0x42000020],
  esp32c2: [0x3c000020, 0x3fca0000, 0x40380000, 0x42000020],
  esp32c6: [0x42800020, 0x40800000, 0x40810000, 0x42000020],
  esp32h2: [0x42800020, 0x40800000, 0x40810000, 0x42000020],
  esp32p4: [0x40000020, 0x4ff00000, 0x4ff10000, 0x40800020],
  esp8266: [0x40201010, 0x40100000, 0x3ffe8000, 0x3ffe8800],
};

const KIB = 1024;
const ESP8266_APP_OFFSET = 0x1000;
const APP_DESC_SIZE = 256;

export function generateEspImage(options: GenerateOptions = {}): Buffer {
  const chip = options.chip ?? 'esp32';
  const size = options.size ?? 64 * KIB;
  const segments = options.segments ?? 3;
  const random = keystream(options.seed ?? 1);
  if (!Number.isInteger(size) || size % 16 !== 0 || size > 16 * KIB * KIB) {
    throw new RangeError(`size ${size}: ESP images are a multiple of 16 bytes, at most 16 MiB`);
  }
  if (!Number.isInteger(segments) || segments < 1 || segments > 16) {
    throw new RangeError(`segments ${segments}: expected 1 to 16`);
  }
  if (chip === 'esp8266') {
    const esp32Only = ['appDesc', 'appVersion', 'projectName', 'idfVersion', 'hashAppended'];
    const given = esp32Only.filter((key) => options[key as keyof GenerateOptions] !== undefined);
    if (given.length > 0) {
      throw new RangeError(
        `${given.join(', ')}: ESP8266 images have no app descriptor or appended hash ` +
          '(use embedString for a version literal)',
      );
    }
    if (size < ESP8266_APP_OFFSET + KIB) {
      throw new RangeError(
        `size ${size}: an ESP8266 image (boot image, app at 0x1000) needs 5 KiB`,
      );
    }
    const boot = buildImage({ header: esp8266Header(1, 0x4010f29c), segments: 1, size: 1408 });
    fillSegments(boot, random, [0x4010f000], undefined);
    const app = buildImage({
      header: esp8266Header(segments, 0x401001dc),
      segments,
      size: size - ESP8266_APP_OFFSET,
    });
    fillSegments(app, random, ADDRESSES.esp8266 ?? [], options.embedString);
    const padding = Buffer.alloc(ESP8266_APP_OFFSET - boot.image.length, 0xaa);
    return Buffer.concat([finish(boot), padding, finish(app)]);
  }

  const chipId = CHIP_IDS[chip] ?? Number(/^esp32-chip-(\d+)$/.exec(chip)?.[1] ?? NaN);
  if (!(chipId >= 0 && chipId <= 0xffff)) throw new RangeError(`unknown chip ${chip}`);
  const hashAppended = options.hashAppended ?? true;
  const header = Buffer.alloc(24);
  header.writeUInt8(0xe9, 0);
  header.writeUInt8(segments, 1);
  header.writeUInt8(0x02, 2); // DIO
  header.writeUInt8(0x20, 3); // 4 MB flash
  header.writeUInt32LE(ADDRESSES[chip]?.[2] ?? 0x40380000, 4); // entry point in IRAM
  header.writeUInt32LE(0xee, 8); // wp_pin 0xEE, SPI pin drive 0: marks the ESP32 family
  header.writeUInt16LE(chipId, 12);
  header.writeUInt16LE(0xffff, 17); // max_rev_full: any revision
  header.writeUInt8(hashAppended ? 1 : 0, 23);
  const image = buildImage({ header, segments, size: size - (hashAppended ? 32 : 0) });
  const appDesc = options.appDesc ?? true;
  if (appDesc) {
    if (image.lengths[0] < APP_DESC_SIZE) throw new RangeError(`size ${size} is too small`);
    writeAppDesc(image.image, options);
  }
  const addresses = ADDRESSES[chip] ?? ADDRESSES.esp32c3 ?? [];
  fillSegments(image, random, addresses, options.embedString, appDesc);
  // Random data could spell the descriptor magic by chance; the image must not claim one.
  if (!appDesc && image.image.readUInt32LE(0x20) === 0xabcd5432) image.image[0x20] ^= 1;
  const body = finish(image);
  if (!hashAppended) return body;
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

interface Layout {
  image: Buffer;
  headerLength: number;
  lengths: number[];
}

/**
 * Lays out segments so the image is exactly `size` bytes: the data ends 4 bytes before the end,
 * so the checksum (last byte of the 16-byte block) is the final byte after 3 bytes of padding.
 */
function buildImage(spec: { header: Buffer; segments: number; size: number }): Layout {
  const { header, segments, size } = spec;
  const data = size - 4 - header.length - 8 * segments;
  // The first segment keeps room for an app descriptor; the others share the rest.
  const share = Math.floor((data - APP_DESC_SIZE) / segments / 4) * 4;
  if (share < 4) throw new RangeError(`size ${size} is too small for ${segments} segments`);
  const lengths = Array.from({ length: segments }, () => share);
  lengths[0] = data - share * (segments - 1);
  const image = Buffer.alloc(size);
  header.copy(image, 0);
  return { image, headerLength: header.length, lengths };
}

/** Writes segment headers and pseudo-random data around what is already in the first segment. */
function fillSegments(
  layout: Layout,
  random: Keystream,
  addresses: number[],
  embed: string | undefined,
  keepAppDesc = false,
): void {
  const { image, lengths } = layout;
  let at = layout.headerLength;
  let largest = 0;
  lengths.forEach((length, index) => {
    const round = Math.floor(index / addresses.length);
    const address = addresses[index % addresses.length] + round * 0x10000;
    image.writeUInt32LE(address, at);
    image.writeUInt32LE(length, at + 4);
    const skip = index === 0 && keepAppDesc ? APP_DESC_SIZE : 0;
    random((length - skip) & ~3).copy(image, at + 8 + skip);
    if (length > lengths[largest]) largest = index;
    at += 8 + length;
  });
  if (embed !== undefined) {
    const text = Buffer.from(`${embed}\0`, 'ascii');
    let start = layout.headerLength + 8;
    for (let index = 0; index < largest; index++) start += lengths[index] + 8;
    if (largest === 0 && keepAppDesc) start += APP_DESC_SIZE;
    const room = lengths[largest] - (largest === 0 && keepAppDesc ? APP_DESC_SIZE : 0);
    if (text.length > room) throw new RangeError(`embedString does not fit in a segment`);
    text.copy(image, start + Math.floor((room - text.length) / 2));
  }
}

/** Computes the checksum over all segment data and stores it in the image's last byte. */
function finish(layout: Layout): Buffer {
  const { image, lengths } = layout;
  let checksum = 0xef;
  let at = layout.headerLength;
  for (const length of lengths) {
    for (let k = at + 8; k < at + 8 + length; k++) checksum ^= image[k];
    at += 8 + length;
  }
  image.writeUInt8(checksum, image.length - 1);
  return image;
}

function esp8266Header(segments: number, entry: number): Buffer {
  const header = Buffer.from([0xe9, segments, 0x02, 0x40, 0, 0, 0, 0]); // DIO, 4 MB
  header.writeUInt32LE(entry, 4);
  return header;
}

function writeAppDesc(image: Buffer, options: GenerateOptions): void {
  image.writeUInt32LE(0xabcd5432, 0x20);
  writeString(image, 0x30, 32, options.appVersion ?? '1.0.0', 'appVersion');
  writeString(image, 0x50, 32, options.projectName ?? 'test-app', 'projectName');
  writeString(image, 0x70, 16, '00:00:00', 'time');
  writeString(image, 0x80, 16, 'Jan  1 2024', 'date');
  writeString(image, 0x90, 32, options.idfVersion ?? 'v5.1.2', 'idfVersion');
}

function writeString(image: Buffer, offset: number, size: number, text: string, name: string) {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > size) throw new RangeError(`${name} is longer than ${size} bytes`);
  bytes.copy(image, offset);
}

/** The next `length` pseudo-random bytes. */
type Keystream = (length: number) => Buffer;

/**
 * Deterministic pseudo-random bytes for a seed: an AES-128-CTR keystream keyed by it. Native, so
 * a 14 MiB image takes milliseconds instead of seconds of a JavaScript loop (a test that builds
 * one on a loaded CI machine otherwise spends most of its time budget here).
 */
function keystream(seed: number): Keystream {
  const key = createHash('sha256')
    .update(`esp-image-generator:${seed >>> 0}`)
    .digest();
  const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  return (length) => cipher.update(Buffer.alloc(length));
}
