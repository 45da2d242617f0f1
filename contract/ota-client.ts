/**
 * Recognises the OTA clients a firmware image carries from the string literals they compile
 * into it (API.md, "Keeping the way back"). A build without its OTA client is flashed once and
 * can never be updated remotely again, so the registry refuses to replace an image that has a
 * client with one that has none, and the Action warns before uploading one.
 *
 * Self-contained (no imports from the rest of the registry): the registry's upload pass and the
 * Action's inspection of the file both feed it, chunk by chunk, as the bytes stream by.
 * docs/ota-client-guard.md says which builds leave which mark, with the source lines.
 */

/** The clients we recognise, in the order a record lists them. */
const OTA_CLIENTS = ['iotaap-os', 'httpupdate', 'esp-https-ota'] as const;
export type OtaClient = (typeof OTA_CLIENTS)[number];

/**
 * Exact, case-sensitive byte strings, each a literal of the client's source that any build
 * using the client keeps (it is sent on the wire or used at run time, so the linker cannot drop
 * it). A mark may sit inside a longer literal: IoTaaP OS up to 4.0.0 compiles the full URL
 * `https://ota.iotaap.io/v1/ota/device/latest/`, later versions the path alone.
 */
export const OTA_CLIENT_MARKS: ReadonlyArray<{ client: OtaClient; mark: string }> = [
  // IoTaaP OS src/system/definitions.h: OTA_CHECK_DEVICE_URI / OTA_CHECK_GROUP_URI (4.0.1+),
  // OTA_CHECK_DEVICE_URL / OTA_CHECK_GROUP_URL (3.x, 4.0.0), used by src/ota/ota_module.cpp.
  { client: 'iotaap-os', mark: '/v1/ota/device/latest/' },
  { client: 'iotaap-os', mark: '/v1/ota/group/latest/' },
  // arduino-esp32 HTTPUpdate.cpp and esp8266 ESP8266httpUpdate.cpp, handleUpdate(): request
  // header names. arduino-esp32 1.0.x has the x-ESP32-sketch-md5 line commented out ("To do")
  // and old ESP8266 cores lack x-ESP8266-sketch-md5, so the User-Agent each sets in every
  // version counts too.
  { client: 'httpupdate', mark: 'x-ESP32-sketch-md5' },
  { client: 'httpupdate', mark: 'x-ESP8266-sketch-md5' },
  { client: 'httpupdate', mark: 'ESP32-http-Update' },
  { client: 'httpupdate', mark: 'ESP8266-http-Update' },
  // ESP-IDF components/esp_https_ota/src/esp_https_ota.c: the log TAG (also the prefix of its
  // "esp_https_ota_begin: Invalid argument" messages), and the event base ESP-IDF 5.x defines,
  // which stays when logging is compiled out.
  { client: 'esp-https-ota', mark: 'esp_https_ota' },
  { client: 'esp-https-ota', mark: 'ESP_HTTPS_OTA_EVENT' },
];

const MARKS = OTA_CLIENT_MARKS.map(({ client, mark }) => ({
  client,
  bytes: Buffer.from(mark, 'latin1'),
}));
/** Bytes that can hold the start of a mark whose end is still to come. */
const CARRY = Math.max(...MARKS.map(({ bytes }) => bytes.length)) - 1;

/**
 * Streaming scanner: feed every chunk of the file in order, then read `clients()`. Memory is
 * O(longest mark): the last bytes of the previous chunk are kept (copied, never a reference to
 * the caller's chunk) so a mark split across chunks is found; chunks are searched in place.
 */
export class OtaClientScanner {
  private readonly found = new Set<OtaClient>();
  /** The last (up to CARRY) bytes seen, then room for as many of the next chunk's. */
  private readonly joint = Buffer.alloc(2 * CARRY);
  private carried = 0;

  update(chunk: Buffer): void {
    if (this.found.size === OTA_CLIENTS.length || chunk.length === 0) return;
    // Marks that start in the carried bytes and end in this chunk.
    const head = Math.min(chunk.length, CARRY);
    chunk.copy(this.joint, this.carried, 0, head);
    const joint = this.joint.subarray(0, this.carried + head);
    for (const { client, bytes } of MARKS) {
      if (this.found.has(client)) continue;
      if (joint.indexOf(bytes) !== -1 || chunk.indexOf(bytes) !== -1) this.found.add(client);
    }
    // Keep the last CARRY bytes of everything so far.
    if (chunk.length >= CARRY) {
      chunk.copy(this.joint, 0, chunk.length - CARRY);
      this.carried = CARRY;
    } else {
      const keep = Math.min(CARRY, this.carried + chunk.length);
      this.joint.copy(this.joint, 0, this.carried + chunk.length - keep, this.carried + head);
      this.carried = keep;
    }
  }

  /** The clients whose marks appeared so far, in OTA_CLIENTS order; [] for none. */
  clients(): OtaClient[] {
    return OTA_CLIENTS.filter((client) => this.found.has(client));
  }
}

/** Convenience for an image already in memory. */
export function findOtaClients(image: Buffer): OtaClient[] {
  const scanner = new OtaClientScanner();
  scanner.update(image);
  return scanner.clients();
}
