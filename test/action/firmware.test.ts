import { describe, expect, test } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { DeployError } from '../../action/errors.js';
import {
  defaultEnvironment,
  inspectFirmware,
  locateFirmware,
  VersionFinder,
} from '../../action/firmware.js';
import * as messages from '../../action/messages.js';
import { fakeImage, registryImageMessage, tempDir, writeImage } from './fakes.js';
import { md5, sha256 } from '../support/hashes.js';

/** Feeds `data` to a finder in chunks of `size` bytes, as a file stream would. */
function findInChunks(version: string, data: Buffer, size: number): boolean {
  const finder = new VersionFinder(version);
  for (let i = 0; i < data.length; i += size) finder.push(data.subarray(i, i + size));
  return finder.found();
}

describe('the version check', () => {
  test.each([
    ['a C string', 'xx\x001.2.7\x00yy', true],
    ['after a v', 'IoTaaP_OS v1.2.7 ready', true],
    ['at the very start', '1.2.7\0rest', true],
    ['at the very end', 'data 1.2.7', true],
    ['as part of a longer version', 'ver 1.2.70\0', false],
    ['after another digit', 'ver 11.2.7\0', false],
    ['as the start of a pre-release', 'ver 1.2.7-rc.1\0', false],
    ['nowhere', 'esp-idf: v4.4.7 38eeba213a', false],
    ['only after a rejected look-alike', '11.2.7 and then 1.2.7\0', true],
  ])('%s', (_name, text, expected) => {
    const data = Buffer.from(text, 'latin1');
    for (const size of [1, 2, 3, 5, 6, 7, 64]) {
      expect([size, findInChunks('1.2.7', data, size)]).toEqual([size, expected]);
    }
  });

  test('finds a version that a chunk boundary cuts', () => {
    const image = fakeImage(200_000, '2.0.0-rc.1');
    for (const size of [4096, 65536, 1, 99_999, 100_003]) {
      expect(findInChunks('2.0.0-rc.1', image, size)).toBe(true);
    }
  });
});

describe('inspectFirmware', () => {
  test('hashes and measures the file, and looks for the version', async () => {
    const image = fakeImage(300_000, '1.2.7');
    const file = await writeImage(await tempDir(), 'firmware.bin', image);
    await expect(inspectFirmware(file, '1.2.7')).resolves.toEqual({
      path: file,
      size: image.length,
      sha256: sha256(image),
      md5: md5(image),
      chip: 'esp32',
      containsVersion: true,
      otaClient: [],
    });
    await expect(inspectFirmware(file, '1.2.8')).resolves.toMatchObject({ containsVersion: false });
  });

  test('finds OTA client marks in the same pass', async () => {
    const image = fakeImage(300_000, '1.2.7', 'esp_https_ota', 'x-ESP8266-sketch-md5');
    const file = await writeImage(await tempDir(), 'firmware.bin', image);
    await expect(inspectFirmware(file, '1.2.7')).resolves.toMatchObject({
      containsVersion: true,
      otaClient: ['httpupdate', 'esp-https-ota'],
    });
  });

  test("refuses an empty file with the registry's words", async () => {
    const file = await writeImage(await tempDir(), 'empty.bin', Buffer.alloc(0));
    await expect(inspectFirmware(file, '1.0.0')).rejects.toThrow(
      messages.invalidImage(file, registryImageMessage(Buffer.alloc(0))),
    );
  });
});

describe('locateFirmware', () => {
  test('uses an explicit path as is', async () => {
    const dir = await tempDir();
    const file = await writeImage(dir, 'out/app.bin', fakeImage());
    await expect(locateFirmware({ projectDir: dir, firmware: file })).resolves.toBe(file);
  });

  test('fails for an explicit path that does not exist', async () => {
    const dir = await tempDir();
    await expect(
      locateFirmware({ projectDir: dir, firmware: path.join(dir, 'nope.bin') }),
    ).rejects.toThrow(/nope\.bin does not exist/);
  });

  test("uses the environment's build output", async () => {
    const dir = await tempDir();
    await writeImage(dir, '.pio/build/other/firmware.bin', fakeImage());
    const file = await writeImage(dir, '.pio/build/esp32dev/firmware.bin', fakeImage());
    await expect(locateFirmware({ projectDir: dir, environment: 'esp32dev' })).resolves.toBe(file);
  });

  test('says when the environment built nothing', async () => {
    const dir = await tempDir();
    await expect(locateFirmware({ projectDir: dir, environment: 'esp32dev' })).rejects.toThrow(
      /No firmware at .*esp32dev.firmware\.bin: did the build of environment "esp32dev" run\?/,
    );
  });

  test('takes the only image when no environment is given', async () => {
    const dir = await tempDir();
    const file = await writeImage(dir, '.pio/build/d1_mini/firmware.bin', fakeImage());
    await expect(locateFirmware({ projectDir: dir })).resolves.toBe(file);
  });

  test('lists the candidates instead of guessing', async () => {
    const dir = await tempDir();
    await writeImage(dir, '.pio/build/esp32dev/firmware.bin', fakeImage());
    await writeImage(dir, '.pio/build/esp32c3/firmware.bin', fakeImage());
    const error = await locateFirmware({ projectDir: dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeployError);
    const message = (error as Error).message;
    expect(message).toMatch(/^Several firmware images and no environment to choose one: /);
    expect(message).toContain(path.join(dir, '.pio/build/esp32c3/firmware.bin'));
    expect(message).toContain(path.join(dir, '.pio/build/esp32dev/firmware.bin'));
    expect(message).toMatch(/Set environment/);
  });

  test("follows platformio.ini's default_envs among several images", async () => {
    const dir = await tempDir();
    await writeFile(
      path.join(dir, 'platformio.ini'),
      '[platformio]\ndefault_envs = esp32c3\n\n[env:esp32dev]\nboard = esp32dev\n\n[env:esp32c3]\nboard = esp32-c3-devkitm-1\n',
    );
    await writeImage(dir, '.pio/build/esp32dev/firmware.bin', fakeImage());
    const file = await writeImage(dir, '.pio/build/esp32c3/firmware.bin', fakeImage());
    await expect(locateFirmware({ projectDir: dir })).resolves.toBe(file);
  });

  test('says when there is nothing to upload', async () => {
    const dir = await tempDir();
    await expect(locateFirmware({ projectDir: dir })).rejects.toThrow(/No firmware\.bin under/);
  });
});

describe('defaultEnvironment', () => {
  test.each<[string, string, string | undefined]>([
    ['the only env section', '[env:esp32dev]\nplatform = espressif32\n', 'esp32dev'],
    [
      'default_envs',
      '[platformio]\ndefault_envs = b ; the board on my desk\n[env:a]\n[env:b]\n',
      'b',
    ],
    ['several env sections', '[env:a]\n[env:b]\n', undefined],
    ['several default_envs', '[platformio]\ndefault_envs = a, b\n[env:a]\n[env:b]\n', undefined],
    ['a commented-out section', '; [env:old]\n[env:new]\n', 'new'],
  ])('reads %s', async (_name, ini, expected) => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'platformio.ini'), ini);
    await expect(defaultEnvironment(dir)).resolves.toBe(expected);
  });

  test('is undefined without platformio.ini', async () => {
    await expect(defaultEnvironment(await tempDir())).resolves.toBeUndefined();
  });
});
