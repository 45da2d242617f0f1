import { request, upload, type Reply, type TestRegistry } from './registry.js';

/** Helpers for the fleet tests (groups, check-ins, history): thin wrappers over the HTTP API. */

export type Kind = 'device' | 'group';

/** A device or group as its firmware knows it: the id and the token. */
export interface IdAndToken {
  id: string;
  token: string;
}

/** POST /v1/groups; returns the group's id and its token (shown once). */
export async function addGroup(
  registry: TestRegistry,
  apiKey: string,
  body: Record<string, unknown> = {},
): Promise<IdAndToken> {
  const res = await request(`${registry.url}/v1/groups`, { method: 'POST', apiKey, json: body });
  if (res.status !== 201)
    throw new Error(`group create: ${res.status} ${JSON.stringify(res.body)}`);
  const created = res.body as { _id: string; token: string };
  return { id: created._id, token: created.token };
}

/** PUT /v1/devices/{id} {"group"}: joins (a group id) or leaves (null, "undefined"). */
export function setGroup(
  registry: TestRegistry,
  apiKey: string,
  deviceId: string,
  group: string | null,
  extra: Record<string, unknown> = {},
): Promise<Reply> {
  return request(`${registry.url}/v1/devices/${deviceId}`, {
    method: 'PUT',
    apiKey,
    json: { group, ...extra },
  });
}

/** POST /v1/ota/{kind} with the file, like `curl -F`. */
export function deployTo(
  registry: TestRegistry,
  apiKey: string,
  kind: Kind,
  target: IdAndToken,
  version: string,
  bytes: Buffer,
  extra: Record<string, string> = {},
): Promise<Reply> {
  return upload(
    `${registry.url}/v1/ota/${kind}`,
    apiKey,
    { [kind]: target.id, token: target.token, version, ...extra },
    [{ bytes }],
  );
}

export const downloadPath = (kind: Kind, target: IdAndToken) =>
  `/v1/ota/${kind}/download/${target.id}${target.token}`;

/**
 * The headers arduino-esp32's HTTPUpdate sends with its request (DEVICES.md), with the names
 * spelt as it spells them. `version` is sent only when the sketch passed a current version.
 */
export function esp32UpdaterHeaders(options: {
  md5: string;
  version?: string;
  mac?: string;
}): Record<string, string> {
  const headers: Record<string, string> = {
    'User-Agent': 'ESP32-http-Update',
    'x-ESP32-STA-MAC': options.mac ?? '24:0A:C4:12:34:56',
    'x-ESP32-AP-MAC': '24:0A:C4:12:34:57',
    'x-ESP32-BASE-MAC': '24:0A:C4:12:34:56',
    'x-ESP32-free-space': '1966080',
    'x-ESP32-sketch-size': '931184',
    'x-ESP32-sketch-md5': options.md5,
    // Hash of the running partition, not of the file: uppercase hex, never matches a file's hash.
    'x-ESP32-sketch-sha256': 'A'.repeat(64),
    'x-ESP32-chip-size': '4194304',
    'x-ESP32-sdk-version': 'v4.4.7-dirty',
    'x-ESP32-mode': 'sketch',
  };
  if (options.version !== undefined) headers['x-ESP32-version'] = options.version;
  return headers;
}

/** The ESP8266 core's equivalent (ESP8266httpUpdate). */
export function esp8266UpdaterHeaders(options: {
  md5: string;
  version?: string;
}): Record<string, string> {
  const headers: Record<string, string> = {
    'User-Agent': 'ESP8266-http-Update',
    'x-ESP8266-Chip-ID': '1234567',
    'x-ESP8266-STA-MAC': '5C:CF:7F:00:00:01',
    'x-ESP8266-AP-MAC': '5E:CF:7F:00:00:01',
    'x-ESP8266-free-space': '2605056',
    'x-ESP8266-sketch-size': '461696',
    'x-ESP8266-sketch-md5': options.md5,
    'x-ESP8266-chip-size': '4194304',
    'x-ESP8266-sdk-version': '2.2.1(cfd48f3)',
    'x-ESP8266-mode': 'sketch',
  };
  if (options.version !== undefined) headers['x-ESP8266-version'] = options.version;
  return headers;
}
