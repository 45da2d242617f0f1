import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { chipLabel, type Chip } from '../../contract/chips.js';
import {
  EspImageValidator,
  inspectEspImage,
  InvalidImageError,
  type EspImageInfo,
} from '../../contract/esp-image.js';
import { generateEspImage } from '../support/esp-image-generator.js';
import { describeIfFixtures, FIXTURE_DIR as fixtureDir } from '../support/fixtures.js';

const PREFIX = 'Not a valid ESP firmware image: ';
const ARDUINO_44 = {
  appVersion: 'esp-idf: v4.4.7 38eeba213a',
  projectName: 'arduino-lib-builder',
  idfVersion: 'v4.4.7-dirty',
};

/** Expected results, from SOURCES.md beside the fixtures. */
const fixtures: Record<string, EspImageInfo> = {
  'esp32-arduino-tamapetchi.bin': { chip: 'esp32', segments: 7, hashAppended: true, ...ARDUINO_44 },
  'esp32-espidf-nat-router.bin': {
    chip: 'esp32',
    segments: 7,
    hashAppended: true,
    appVersion: 'a8c97dc',
    projectName: 'esp32_nat_router',
    idfVersion: '5.1.2',
  },
  'esp32-arduino-legacy-no-appdesc-flappy-bird.bin': {
    chip: 'esp32',
    segments: 6,
    hashAppended: true,
  },
  'esp32s3-arduino-explora-gateway.bin': {
    chip: 'esp32s3',
    segments: 5,
    hashAppended: true,
    ...ARDUINO_44,
  },
  'esp32c3-arduino-cistern-probe.bin': {
    chip: 'esp32c3',
    segments: 7,
    hashAppended: true,
    appVersion: 'heads/idf-release/v4.4-0-gd4572',
    projectName: 'arduino-lib-builder',
    idfVersion: 'v4.4.1-472-gc9140caf8c',
  },
  'esp8266-arduino-milight-hub.bin': { chip: 'esp8266', segments: 5, hashAppended: false },
};

function inspectInChunks(image: Buffer, chunkSize: number): EspImageInfo {
  const validator = new EspImageValidator();
  for (let at = 0; at < image.length; at += chunkSize) {
    validator.update(image.subarray(at, at + chunkSize));
  }
  return validator.finish();
}

function reject(image: Buffer): string {
  try {
    inspectEspImage(image);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidImageError);
    return (error as Error).message;
  }
  throw new Error('the image was accepted');
}

function withByte(image: Buffer, offset: number, value: number): Buffer {
  const copy = Buffer.from(image);
  copy[offset] = value;
  return copy;
}

const flipped = (image: Buffer, offset: number) => withByte(image, offset, image[offset] ^ 0x01);

describeIfFixtures('real firmware.bin fixtures', () => {
  test('the fixture directory holds exactly the files listed in SOURCES.md', () => {
    const names = fs.readdirSync(fixtureDir).filter((name) => name.endsWith('.bin'));
    expect(names.sort()).toEqual(Object.keys(fixtures).sort());
  });

  test.each(Object.entries(fixtures))('%s gives the chip, segments and app desc', (name, info) => {
    const image = fs.readFileSync(path.join(fixtureDir, name));
    expect(inspectEspImage(image)).toEqual(info);
  });

  test.each(Object.keys(fixtures))('%s gives the same result in 1, 7 and 64 KiB chunks', (name) => {
    const image = fs.readFileSync(path.join(fixtureDir, name));
    for (const chunkSize of [1, 7, 64 * 1024]) {
      expect(inspectInChunks(image, chunkSize)).toEqual(fixtures[name]);
    }
  });

  test('a truncated fixture is rejected', () => {
    const image = fs.readFileSync(path.join(fixtureDir, 'esp32-arduino-tamapetchi.bin'));
    expect(reject(image.subarray(0, 500_000))).toMatch(/truncated: segment 5 of 7/);
  });
});

describe('generated images', () => {
  const chips: Chip[] = [
    'esp32',
    'esp32s2',
    'esp32s3',
    'esp32c3',
    'esp32c2',
    'esp32c6',
    'esp32h2',
    'esp32p4',
    'esp32-chip-23',
  ];

  test.each(chips)('%s with an app descriptor is accepted', (chip) => {
    const image = generateEspImage({ chip, appVersion: '2.3.4', projectName: 'thermostat' });
    expect(image.length).toBe(64 * 1024);
    expect(inspectEspImage(image)).toEqual({
      chip,
      segments: 3,
      hashAppended: true,
      appVersion: '2.3.4',
      projectName: 'thermostat',
      idfVersion: 'v5.1.2',
    });
  });

  test.each(chips)('%s without app descriptor or hash is accepted', (chip) => {
    const image = generateEspImage({ chip, appDesc: false, hashAppended: false, segments: 16 });
    expect(inspectEspImage(image)).toEqual({ chip, segments: 16, hashAppended: false });
  });

  test('esp8266 gets the Arduino layout: boot image, 0xAA padding, app at 0x1000', () => {
    const image = generateEspImage({ chip: 'esp8266', size: 20_000, segments: 5 });
    expect(image.length).toBe(20_000);
    expect(image[0]).toBe(0xe9);
    expect(image[0x1000 - 1]).toBe(0xaa);
    expect(image[0x1000]).toBe(0xe9);
    expect(inspectInChunks(image, 7)).toEqual({
      chip: 'esp8266',
      segments: 5,
      hashAppended: false,
    });
    // The app image alone is a single ESP8266 image, which is accepted too.
    expect(inspectEspImage(image.subarray(0x1000)).segments).toBe(5);
  });

  test('size is exact, seeds change the bytes and embedString lands in the data', () => {
    const a = generateEspImage({ size: 4096, seed: 1, embedString: 'v9.8.7-build' });
    const b = generateEspImage({ size: 4096, seed: 2 });
    expect(a.length).toBe(4096);
    expect(a.equals(b)).toBe(false);
    expect(a.equals(generateEspImage({ size: 4096, seed: 1, embedString: 'v9.8.7-build' }))).toBe(
      true,
    );
    expect(a.includes('v9.8.7-build\0')).toBe(true);
    expect(inspectEspImage(a).appVersion).toBe('1.0.0');
  });

  test('a version filling all 32 bytes (no NUL) is read whole', () => {
    const version = '1.0.0-rc.1+build.20240101.abcdef';
    expect(version.length).toBe(32);
    expect(inspectEspImage(generateEspImage({ appVersion: version })).appVersion).toBe(version);
  });

  test('an 8 MiB image fed in 64 KiB chunks is accepted', () => {
    const image = generateEspImage({ chip: 'esp32s3', size: 8 * 1024 * 1024, segments: 6 });
    expect(inspectInChunks(image, 64 * 1024)).toMatchObject({ chip: 'esp32s3', segments: 6 });
  });
});

describe('rejected inputs', () => {
  const good = generateEspImage({ size: 8192 });
  const noHash = generateEspImage({ size: 8192, hashAppended: false });
  const esp8266 = generateEspImage({ chip: 'esp8266', size: 8192 });
  const dataAt = 24 + 8 + 300; // inside the first segment's data, after the app descriptor

  /** A merged image as `esptool merge_bin` makes it for the S3/C3: bootloader, table, app. */
  function mergedS3(): Buffer {
    const merged = Buffer.alloc(0x10000 + good.length, 0xff);
    generateEspImage({ chip: 'esp32s3', size: 0x4000, appDesc: false, seed: 7 }).copy(merged, 0);
    Buffer.from([0xaa, 0x50, 0x01, 0x02]).copy(merged, 0x8000);
    generateEspImage({ chip: 'esp32s3', size: 8192 }).copy(merged, 0x10000);
    return merged;
  }
  const withFirstLength = (length: number) => {
    const copy = Buffer.from(good);
    copy.writeUInt32LE(length, 24 + 4);
    return copy;
  };

  test.each<[string, Buffer, RegExp]>([
    ['an empty file', Buffer.alloc(0), /the file is empty/],
    [
      'an ELF file',
      Buffer.concat([Buffer.from('\x7fELF\x01\x01\x01', 'latin1'), good]),
      /ELF file.*not firmware\.elf/,
    ],
    ['a JSON file', Buffer.from('{"version": "1.0.0"}\n'), /text file/],
    ['an HTML error page', Buffer.from('<!DOCTYPE html><html></html>'), /text file/],
    ['a 2-byte text file', Buffer.from('hi'), /text file/],
    [
      'a file starting with 0xFF padding',
      Buffer.concat([Buffer.alloc(0x1000, 0xff), good]),
      /merged\/factory image/,
    ],
    ['a bootloader + partition table + app merged image', mergedS3(), /merged\/factory image/],
    [
      'an unknown binary',
      Buffer.from([0x12, 0x34, 0x56, 0x78]),
      /expected .*0xE9 at offset 0, found 0x12/,
    ],
    ['truncated inside the header', good.subarray(0, 20), /truncated.*image header/],
    ['truncated inside a segment header', good.subarray(0, 28), /truncated: segment 1 of 3/],
    [
      'truncated inside segment data',
      good.subarray(0, 5000),
      /truncated: segment \d of 3 .*runs past the end/,
    ],
    ['truncated before the checksum', noHash.subarray(0, noHash.length - 1), /truncated.*checksum/],
    ['truncated inside the SHA-256', good.subarray(0, good.length - 5), /truncated.*SHA-256/],
    ['truncated ESP8266 app image', esp8266.subarray(0, 6000), /truncated: segment/],
    [
      'ESP8266 boot image and padding only',
      esp8266.subarray(0, 0x1000),
      /truncated.*ESP8266 app image/,
    ],
    ['one flipped byte in segment data', flipped(noHash, dataAt), /corrupt: checksum mismatch/],
    ['one flipped byte in segment data (hashed image)', flipped(good, dataAt), /corrupt/],
    [
      'one flipped header byte with hashAppended',
      flipped(good, 4),
      /corrupt: the appended SHA-256/,
    ],
    [
      'one flipped byte in the appended SHA-256',
      flipped(good, good.length - 1),
      /corrupt: the appended SHA-256/,
    ],
    [
      'trailing garbage',
      Buffer.concat([good, Buffer.from('garbage')]),
      /unexpected data after the end of the image/,
    ],
    [
      'trailing 0xFF padding',
      Buffer.concat([good, Buffer.alloc(100, 0xff)]),
      /unexpected data after the end/,
    ],
    [
      'trailing garbage after an ESP8266 image',
      Buffer.concat([esp8266, Buffer.alloc(1)]),
      /unexpected data after/,
    ],
    ['segment count 0', withByte(good, 1, 0), /declares 0 segments, expected 1 to 16/],
    ['segment count 17', withByte(good, 1, 17), /declares 17 segments, expected 1 to 16/],
    [
      'an absurd segment length',
      withFirstLength(0xfffffff0),
      /segment 1 of 3 declares 4294967280 bytes/,
    ],
    ['a segment length that is not a multiple of 4', withFirstLength(301), /not a multiple of 4/],
    ['hash_appended neither 0 nor 1', withByte(good, 23, 2), /hash_appended\) is 2/],
  ])('%s', (_name, image, message) => {
    const text = reject(image);
    expect(text.startsWith(PREFIX)).toBe(true);
    expect(text).toMatch(message);
  });

  test('a wrong first byte is refused from the first chunk, before the upload ends', () => {
    const validator = new EspImageValidator();
    expect(() => validator.update(Buffer.from('\x7fELF', 'latin1'))).toThrow(/ELF file/);
  });

  test('an absurd segment length is refused at its header, not at the end', () => {
    const validator = new EspImageValidator();
    expect(() => validator.update(withFirstLength(0x7ffffff0).subarray(0, 40))).toThrow(/16 MiB/);
  });

  test('a merged image is refused at the partition table, before the app arrives', () => {
    const validator = new EspImageValidator();
    expect(() => validator.update(mergedS3().subarray(0, 0x8002))).toThrow(/merged/);
  });
});

test('chipLabel names chips the way Espressif writes them', () => {
  expect(chipLabel('esp32')).toBe('ESP32');
  expect(chipLabel('esp32s3')).toBe('ESP32-S3');
  expect(chipLabel('esp32c6')).toBe('ESP32-C6');
  expect(chipLabel('esp8266')).toBe('ESP8266');
  expect(chipLabel('esp32-chip-23')).toBe('ESP32 family (chip id 23)');
});
