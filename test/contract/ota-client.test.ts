import { describe, expect, test } from '@jest/globals';
import {
  findOtaClients,
  OTA_CLIENT_MARKS,
  OtaClientScanner,
  type OtaClient,
} from '../../contract/ota-client.js';
import { generateEspImage } from '../support/esp-image-generator.js';
import { describeIfFixtures, fixtureNames, readFixture } from '../support/fixtures.js';

const MARKS = OTA_CLIENT_MARKS.map(({ client, mark }) => [mark, client] as const);

/** Feeds `bytes` to a scanner in the given chunk lengths (the rest as one last chunk). */
function scanInChunks(bytes: Buffer, lengths: number[]): OtaClient[] {
  const scanner = new OtaClientScanner();
  let at = 0;
  for (const length of lengths) {
    scanner.update(bytes.subarray(at, at + length));
    at += length;
  }
  scanner.update(bytes.subarray(at));
  return scanner.clients();
}

/** Filler that cannot spell a mark: bytes outside printable ASCII. */
const filler = (length: number, seed: number) =>
  Buffer.from(Array.from({ length }, (_, i) => 0x80 + ((i * 31 + seed) % 0x7f)));

describe('OTA client marks', () => {
  test.each(MARKS)(
    '"%s" means %s, wherever it sits and however the file is cut',
    (mark, client) => {
      const text = Buffer.from(`${mark}\0`, 'latin1');
      for (const before of [0, 1, 5, 40]) {
        const file = Buffer.concat([filler(before, 1), text, filler(40, 2)]);
        // One cut at every offset: the mark split between two chunks at each of its bytes.
        for (let cut = 0; cut <= file.length; cut++) {
          expect([before, cut, scanInChunks(file, [cut])]).toEqual([before, cut, [client]]);
        }
        // Two cuts around and inside the mark: a chunk shorter than the carried bytes.
        for (let first = before; first <= before + mark.length; first++) {
          for (let second = 0; second <= mark.length; second++) {
            expect(scanInChunks(file, [first, second])).toEqual([client]);
          }
        }
        expect(
          scanInChunks(
            file,
            Array.from({ length: file.length }, () => 1),
          ),
        ).toEqual([client]);
      }
    },
  );

  test.each(MARKS)('"%s" with one byte changed or cut short is no mark', (mark) => {
    const bytes = Buffer.from(mark, 'latin1');
    for (let i = 0; i < bytes.length; i++) {
      const changed = Buffer.from(bytes);
      changed[i] ^= 0x20; // flips letter case, or turns '/' into 0x0F, '-' into 0x0D, ...
      expect(findOtaClients(Buffer.concat([filler(10, 3), changed, filler(10, 4)]))).toEqual([]);
    }
    expect(findOtaClients(bytes.subarray(0, -1))).toEqual([]);
    expect(findOtaClients(bytes.subarray(1))).toEqual([]);
  });

  test('an image with several clients lists each once, in a fixed order', () => {
    const file = Buffer.from(
      'ESP_HTTPS_OTA_EVENT\0x-ESP32-sketch-md5\0/v1/ota/group/latest/\0/v1/ota/device/latest/',
      'latin1',
    );
    expect(findOtaClients(file)).toEqual(['iotaap-os', 'httpupdate', 'esp-https-ota']);
    expect(scanInChunks(file, [3, 7, 1, 19, 2])).toEqual([
      'iotaap-os',
      'httpupdate',
      'esp-https-ota',
    ]);
  });

  test('a mark split across the end of one chunk, an empty chunk and the next is found', () => {
    const file = Buffer.concat([filler(100, 5), Buffer.from('esp_https_ota'), filler(100, 6)]);
    const scanner = new OtaClientScanner();
    scanner.update(file.subarray(0, 105));
    scanner.update(Buffer.alloc(0));
    scanner.update(file.subarray(105));
    expect(scanner.clients()).toEqual(['esp-https-ota']);
  });

  test('the carried bytes are a copy: a reused chunk buffer does not fake or hide a mark', () => {
    const buffer = Buffer.from('xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx/v1/ota/dev', 'latin1');
    const scanner = new OtaClientScanner();
    scanner.update(buffer);
    buffer.fill(0); // the stream reuses its buffer for the next chunk
    scanner.update(Buffer.from('ice/latest/abc', 'latin1'));
    expect(scanner.clients()).toEqual(['iotaap-os']);
  });

  test('generated images carry none, or exactly the client whose mark is embedded', () => {
    expect(findOtaClients(generateEspImage({ seed: 1, size: 256 * 1024 }))).toEqual([]);
    expect(findOtaClients(generateEspImage({ chip: 'esp8266', seed: 2 }))).toEqual([]);
    for (const [mark, client] of MARKS) {
      expect(findOtaClients(generateEspImage({ seed: 3, embedString: mark }))).toEqual([client]);
      expect(
        findOtaClients(generateEspImage({ chip: 'esp8266', seed: 4, embedString: mark })),
      ).toEqual([client]);
    }
  });
});

/**
 * The real images beside the fixtures update another way (a web form, ArduinoOTA, none), so
 * they are the "no client" case. They do contain esp_ota_ops strings (every Arduino core and
 * ESP-IDF app links esp_ota_get_running_partition), which is why those are no mark.
 */
describeIfFixtures('real images', () => {
  test.each(fixtureNames())('%s carries no OTA client mark', (name) => {
    const bytes = readFixture(name);
    expect(findOtaClients(bytes)).toEqual([]);
    expect(scanInChunks(bytes, [65536, 1, 4095, 16384])).toEqual([]);
  });
});
