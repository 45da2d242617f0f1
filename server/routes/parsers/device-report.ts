import type { Context } from 'koa';
import type { DeviceReport } from '../../services/checkin-recorder.js';

const MD5 = /^[0-9a-f]{32}$/i;
const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/i;
const PRINTABLE = /^[\x20-\x7e]{1,64}$/;

/**
 * Reads the headers the Arduino updater sends with every download (arduino-esp32 HTTPUpdate:
 * `x-ESP32-*`; ESP8266httpUpdate: `x-ESP8266-*`; see DEVICES.md). Anything malformed is
 * ignored rather than refused: these are reports, and the download must still work. Only a
 * download (it carries the token) is asked: `latest` reports nothing (docs/security.md).
 */
export function deviceReport(ctx: Context): DeviceReport {
  const header = (name: string) => ctx.get(`x-ESP32-${name}`) || ctx.get(`x-ESP8266-${name}`);
  const report: DeviceReport = {};
  const version = header('version');
  if (PRINTABLE.test(version)) report.version = version;
  const md5 = header('sketch-md5');
  if (MD5.test(md5)) report.md5 = md5.toLowerCase();
  const mac = header('STA-MAC');
  if (MAC.test(mac)) report.mac = mac.toUpperCase();
  const freeSpace = header('free-space');
  if (/^\d{1,10}$/.test(freeSpace)) report.freeSpace = Number(freeSpace);
  const sdk = header('sdk-version');
  if (PRINTABLE.test(sdk)) report.sdkVersion = sdk;
  const mode = header('mode');
  if (PRINTABLE.test(mode)) report.mode = mode.toLowerCase();
  return report;
}
