import { createHash, type Hash } from 'node:crypto';
import { chipOfImageId, type Chip } from './chips.js';

/**
 * Validates ESP application images (`firmware.bin`) as they stream in, so an upload of the
 * wrong file can be refused before it is stored. The layout is described in DEVICES.md
 * ("ESP application image"); the checks mirror what the ESP-IDF bootloader and esptool do.
 */

export interface EspImageInfo {
  chip: Chip;
  /** Segment count of the application image (the second image of an Arduino ESP8266 file). */
  segments: number;
  /** True when an appended SHA-256 was present and verified (ESP32 family only). */
  hashAppended: boolean;
  /** From `esp_app_desc_t`, NUL-trimmed; absent when the image has no descriptor. */
  appVersion?: string;
  projectName?: string;
  idfVersion?: string;
}

/** The message is shown verbatim to the uploading user: it names what was expected and found. */
export class InvalidImageError extends Error {
  constructor(reason: string) {
    super(`Not a valid ESP firmware image: ${reason}`);
    this.name = 'InvalidImageError';
  }
}

const MAGIC = 0xe9;
const MAX_SEGMENTS = 16; // ESP_IMAGE_MAX_SEGMENTS in ESP-IDF
/** No app can exceed the 16 MiB of mappable flash: a longer walk means garbage lengths. */
const MAX_IMAGE_BYTES = 16 * 1024 * 1024;
/** Arduino ESP8266 firmware.bin: eboot image at 0, the app image at 0x1000. */
const ESP8266_APP_OFFSET = 0x1000;
const APP_DESC_OFFSET = 0x20;
const APP_DESC_MAGIC = 0xabcd5432;
const APP_DESC_SIZE = 256;
/** Bytes kept from the start of the file: header plus esp_app_desc_t up to the end of idf_ver. */
const HEAD_BYTES = 0xb0;
const UPLOAD_BIN = 'upload the application firmware.bin (e.g. .pio/build/<env>/firmware.bin)';
const MERGED =
  'it looks like a merged/factory image (bootloader, partition table and app in one file); ' +
  `${UPLOAD_BIN} instead`;

type Step = 'header' | 'segmentHeader' | 'segmentData' | 'padding' | 'checksum' | 'digest' | 'gap';

/**
 * Streaming validator: feed the upload chunk by chunk as it arrives. Memory stays O(1): the
 * first 176 bytes (for the app descriptor), one 32-byte field buffer and a running hash.
 * After it has thrown, the validator is spent: start a new one for the next upload.
 */
export class EspImageValidator {
  private offset = 0; // bytes consumed so far, i.e. the absolute file offset
  private readonly head = Buffer.alloc(HEAD_BYTES);
  private readonly field = Buffer.alloc(32); // fixed-size field being assembled
  private fieldLength = 0;
  private fieldNeed = 12; // image 0: enough to tell ESP32 family (EE 00 00 00 at 8) from ESP8266
  private step: Step | 'trailing' = 'header';
  private image = 0; // 0, or 1 for the app image of an Arduino ESP8266 file
  private imageStart = 0;
  private esp32 = false;
  private chipId = 0;
  private segmentCount = 0;
  private segment = 0; // index of the segment being read
  private segmentLength = 0;
  private segmentAt = 0; // offset of the current segment's header
  private firstSegmentLength = 0;
  private remaining = 0; // bytes left in segmentData, padding or gap
  private checksum = 0xef;
  private hash: Hash | undefined; // only while an image with an appended SHA-256 is read
  private hashAppended = false;
  private imageEnd = -1; // end offset of the last complete image
  private partitionTableAt = -1; // offset of a possible partition table magic (merged image)

  update(chunk: Buffer): void {
    if (this.offset < HEAD_BYTES) chunk.copy(this.head, this.offset, 0, HEAD_BYTES - this.offset);
    let i = 0;
    while (i < chunk.length) {
      const step = this.step;
      const n = this.consume(chunk, i);
      if (this.hash && step !== 'header' && step !== 'digest') {
        this.hash.update(chunk.subarray(i, i + n));
      }
      i += n;
    }
  }

  finish(): EspImageInfo {
    if (this.offset !== this.imageEnd) throw new InvalidImageError(this.incompleteReason());
    const info: EspImageInfo = {
      chip: this.esp32 ? chipOfImageId(this.chipId) : 'esp8266',
      segments: this.segmentCount,
      hashAppended: this.hashAppended,
    };
    const head = this.head;
    if (this.esp32 && this.firstSegmentLength >= APP_DESC_SIZE) {
      if (head.readUInt32LE(APP_DESC_OFFSET) === APP_DESC_MAGIC) {
        info.appVersion = cString(head, 0x30, 32);
        info.projectName = cString(head, 0x50, 32);
        info.idfVersion = cString(head, 0x90, 32);
      }
    }
    return info;
  }

  /** Consumes bytes of `chunk` from `i` for the current step; returns how many (at least 1). */
  private consume(chunk: Buffer, i: number): number {
    const available = chunk.length - i;
    if (this.step === 'segmentData' || this.step === 'padding' || this.step === 'gap') {
      const n = Math.min(this.remaining, available);
      if (this.step === 'segmentData') {
        let x = this.checksum;
        for (let k = i; k < i + n; k++) x ^= chunk[k];
        this.checksum = x;
      }
      this.offset += n;
      this.remaining -= n;
      if (this.remaining === 0) this.stepDone();
      return n;
    }
    if (this.step === 'checksum') {
      const stored = chunk[i];
      this.offset += 1;
      if (stored !== this.checksum) {
        throw new InvalidImageError(
          `the image is corrupt: checksum mismatch (stored 0x${hex(stored)}, computed ` +
            `0x${hex(this.checksum)}); the file was damaged or changed after the build`,
        );
      }
      this.stepDone();
      return 1;
    }
    if (this.step === 'trailing') {
      this.trailing(chunk[i]);
      this.offset += 1;
      return 1;
    }
    const n = Math.min(this.fieldNeed - this.fieldLength, available);
    chunk.copy(this.field, this.fieldLength, i, i + n);
    this.fieldLength += n;
    this.offset += n;
    if (this.step === 'header' && this.field[0] !== MAGIC) {
      if (this.image === 1) {
        throw new InvalidImageError(
          `expected the ESP8266 application image (byte 0xE9) at offset 0x1000 after the boot ` +
            `image, found 0x${hex(this.field[0])}`,
        );
      }
      if (this.fieldLength >= 4) throw new InvalidImageError(foreignFile(this.field, 4));
    }
    if (this.fieldLength === this.fieldNeed) this.stepDone();
    return n;
  }

  /** Moves to the next step once the current one has all its bytes. */
  private stepDone(): void {
    switch (this.step) {
      case 'header':
        return this.headerDone();
      case 'segmentHeader': {
        const length = this.field.readUInt32LE(4);
        const where = `segment ${this.segment + 1} of ${this.segmentCount}`;
        if (this.esp32 && length % 4 !== 0) {
          throw new InvalidImageError(`${where} has length ${length}, not a multiple of 4`);
        }
        if (this.offset + length - this.imageStart > MAX_IMAGE_BYTES) {
          throw new InvalidImageError(
            `${where} declares ${length} bytes, which runs past the 16 MiB an ESP image can ` +
              'have; the file is corrupt or not an ESP image',
          );
        }
        if (this.segment === 0) this.firstSegmentLength = length;
        this.segmentAt = this.offset - 8;
        this.segmentLength = this.remaining = length;
        this.step = 'segmentData';
        if (length === 0) this.stepDone();
        return;
      }
      case 'segmentData':
        if (++this.segment < this.segmentCount) return this.expectField('segmentHeader', 8);
        // The checksum byte is the last one of the 16-byte-aligned block after the segments.
        this.remaining = 15 - ((this.offset - this.imageStart) % 16);
        this.step = 'padding';
        if (this.remaining === 0) this.step = 'checksum';
        return;
      case 'padding':
        this.step = 'checksum';
        return;
      case 'checksum':
        if (this.hash) return this.expectField('digest', 32);
        return this.imageDone();
      case 'digest': {
        const computed = this.hash?.digest();
        this.hash = undefined;
        if (!computed?.equals(this.field)) {
          throw new InvalidImageError(
            `the image is corrupt: the appended SHA-256 (${this.field.toString('hex', 0, 4)}…) ` +
              `does not match the contents (${computed?.toString('hex', 0, 4)}…)`,
          );
        }
        this.hashAppended = true;
        return this.imageDone();
      }
      case 'gap':
        this.image = 1;
        this.imageStart = this.offset;
        return this.expectField('header', 8);
    }
  }

  private headerDone(): void {
    const field = this.field;
    if (this.image === 0 && this.fieldNeed === 12) {
      this.esp32 = field.readUInt32LE(8) === 0xee;
      if (this.esp32) {
        this.fieldNeed = 24;
        return;
      }
    }
    this.segmentCount = field[1];
    if (this.segmentCount < 1 || this.segmentCount > MAX_SEGMENTS) {
      throw new InvalidImageError(
        `the header declares ${this.segmentCount} segments, expected 1 to ${MAX_SEGMENTS}`,
      );
    }
    this.segment = 0;
    this.checksum = 0xef;
    if (this.esp32) {
      this.chipId = field.readUInt16LE(12);
      if (field[23] > 1) {
        throw new InvalidImageError(
          `header byte 23 (hash_appended) is ${field[23]}, expected 0 or 1`,
        );
      }
      if (field[23] === 1) this.hash = createHash('sha256').update(field.subarray(0, 24));
      return this.expectField('segmentHeader', 8);
    }
    // ESP8266: the header is 8 bytes, so bytes 8..11 already belong to the first segment header.
    const carried = this.fieldLength - 8;
    field.copy(field, 0, 8, this.fieldLength);
    this.expectField('segmentHeader', 8);
    this.fieldLength = carried;
  }

  private imageDone(): void {
    this.imageEnd = this.offset;
    if (!this.esp32 && this.image === 0 && this.offset <= ESP8266_APP_OFFSET) {
      // Maybe the eboot image of an Arduino firmware.bin: padding up to the app at 0x1000.
      this.remaining = ESP8266_APP_OFFSET - this.offset;
      this.step = 'gap';
      if (this.remaining === 0) this.stepDone();
    } else {
      this.step = 'trailing';
    }
  }

  /**
   * Bytes after a complete image. A merged image (bootloader first) continues with 0xFF up to
   * the partition table magic AA 50 at a 4 KiB boundary (0x8000 by default); anything else is
   * appended garbage. Both are refused as soon as they are recognised.
   */
  private trailing(byte: number): void {
    if (this.partitionTableAt >= 0) {
      if (byte === 0x50) throw new InvalidImageError(MERGED);
    } else if (byte === 0xff) {
      return;
    } else if (byte === 0xaa && this.offset % 0x1000 === 0 && this.esp32) {
      this.partitionTableAt = this.offset;
      return;
    }
    throw new InvalidImageError(this.trailingReason());
  }

  private trailingReason(): string {
    return (
      `unexpected data after the end of the image at offset 0x${this.imageEnd.toString(16)} ` +
      '(the file must end there; was something appended to firmware.bin?)'
    );
  }

  private expectField(step: Step, need: number): void {
    this.step = step;
    this.fieldNeed = need;
    this.fieldLength = 0;
  }

  private incompleteReason(): string {
    const at = `at offset 0x${this.offset.toString(16)}`;
    switch (this.step) {
      case 'header':
        if (this.offset === 0) return 'the file is empty';
        if (this.image === 1) {
          return `the image is truncated: the file ends ${at}, in the ESP8266 app image header`;
        }
        if (this.field[0] !== MAGIC) return foreignFile(this.field, this.fieldLength);
        return `the image is truncated: the file ends ${at}, inside the image header`;
      case 'segmentHeader':
      case 'segmentData': {
        const inHeader = this.step === 'segmentHeader';
        const start = inHeader ? this.offset - this.fieldLength : this.segmentAt;
        const length = inHeader ? '' : `, ${this.segmentLength} bytes`;
        return (
          `the image is truncated: segment ${this.segment + 1} of ${this.segmentCount} ` +
          `(at 0x${start.toString(16)}${length}) runs past the end of the file ${at}`
        );
      }
      case 'padding':
      case 'checksum':
        return `the image is truncated: the file ends ${at}, before the checksum byte`;
      case 'digest':
        return `the image is truncated: the file ends ${at}, inside the appended SHA-256`;
      case 'gap':
        return (
          `unexpected data after the end of the image at offset 0x${this.imageEnd.toString(16)}` +
          ' (expected the file to end there, or the ESP8266 app image at 0x1000)'
        );
      case 'trailing':
        return this.trailingReason();
    }
  }
}

/** Convenience for a file already in memory: one update and finish. */
export function inspectEspImage(image: Buffer): EspImageInfo {
  const validator = new EspImageValidator();
  validator.update(image);
  return validator.finish();
}

/** Names the common wrong uploads from their first bytes (the magic byte is not 0xE9). */
function foreignFile(head: Buffer, length: number): string {
  const start = head.subarray(0, length);
  const startsWith = (magic: string) =>
    start.subarray(0, magic.length).equals(Buffer.from(magic, 'latin1'));
  if (startsWith('\x7fELF')) {
    return `this is an ELF file (firmware.elf); ${UPLOAD_BIN}, not firmware.elf`;
  }
  if (start[0] === 0xff) return `the file starts with 0xFF padding: ${MERGED}`;
  if (startsWith('\x1f\x8b')) return `this is a gzip-compressed file; ${UPLOAD_BIN} uncompressed`;
  if (startsWith('PK\x03\x04')) return `this is a ZIP archive; ${UPLOAD_BIN} from inside it`;
  if (startsWith('UF2\n')) return `this is a UF2 file (for drag-and-drop flashing); ${UPLOAD_BIN}`;
  if (
    startsWith('\xef\xbb\xbf') ||
    start.every((b) => (b >= 0x20 && b < 0x7f) || b === 9 || b === 10 || b === 13)
  ) {
    return `this is a text file, not a binary image (expected first byte 0xE9); ${UPLOAD_BIN}`;
  }
  return `expected the ESP image magic byte 0xE9 at offset 0, found 0x${hex(start[0])}`;
}

function cString(buffer: Buffer, offset: number, size: number): string {
  const field = buffer.subarray(offset, offset + size);
  const end = field.indexOf(0);
  return field.toString('utf8', 0, end < 0 ? size : end);
}

function hex(byte: number): string {
  return byte.toString(16).toUpperCase().padStart(2, '0');
}
