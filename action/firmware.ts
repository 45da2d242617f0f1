import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import type { Chip } from '../contract/chips.js';
import { FirmwareInspector } from '../contract/firmware-inspector.js';
import type { OtaClient } from '../contract/ota-client.js';
import { DeployError } from './errors.js';
import type { Logger } from './logger.js';
import * as messages from './messages.js';

export interface FirmwareInfo {
  path: string;
  size: number;
  sha256: string;
  md5: string;
  /** The chip the image is built for, from its header. */
  chip: Chip;
  /** Whether the version string occurs in the image as a whole word (see findVersion). */
  containsVersion: boolean;
  /** The OTA clients whose marks the image carries; [] for none. */
  otaClient: OtaClient[];
}

export interface LocateOptions {
  projectDir: string;
  environment?: string;
  /** An explicit path: used as is. */
  firmware?: string;
}

/**
 * The image to upload: the explicit path; or the environment's `.pio/build/<env>/firmware.bin`;
 * or, without an environment, the one environment platformio.ini builds by default; or the only
 * `firmware.bin` under `.pio/build`. Several candidates and no way to choose is an error that
 * lists them, rather than a guess that ships the wrong board's image.
 */
export async function locateFirmware(
  options: LocateOptions,
  logger?: Pick<Logger, 'debug'>,
): Promise<string> {
  if (options.firmware !== undefined) {
    logger?.debug(`Firmware: ${options.firmware} (given by the firmware setting).`);
    if (!(await isFile(options.firmware))) {
      throw new DeployError(messages.firmwareNotFile(options.firmware));
    }
    return options.firmware;
  }
  const buildDir = path.join(options.projectDir, '.pio', 'build');
  const environment = options.environment ?? (await defaultEnvironment(options.projectDir));
  if (environment !== undefined) {
    const file = path.join(buildDir, environment, 'firmware.bin');
    logger?.debug(`Firmware: ${file} (the build of environment "${environment}").`);
    if (!(await isFile(file))) {
      throw new DeployError(messages.noBuiltFirmware(file, environment));
    }
    return file;
  }
  const candidates = await firmwareCandidates(buildDir);
  logger?.debug(
    `No environment given or set as default; candidates under ${buildDir}: ` +
      (candidates.length > 0 ? candidates.join(', ') : 'none') +
      '.',
  );
  if (candidates.length === 1) return candidates[0] as string;
  if (candidates.length === 0) {
    throw new DeployError(messages.noFirmwareUnder(buildDir));
  }
  throw new DeployError(messages.severalFirmwares(candidates));
}

async function firmwareCandidates(buildDir: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(buildDir);
  } catch {
    return [];
  }
  const files = entries.sort().map((env) => path.join(buildDir, env, 'firmware.bin'));
  const present = await Promise.all(files.map(isFile));
  return files.filter((_, i) => present[i]);
}

/**
 * The environment `pio run` builds when given none, if that is exactly one: `default_envs`
 * in `[platformio]`, else the only `[env:NAME]` section.
 */
export async function defaultEnvironment(projectDir: string): Promise<string | undefined> {
  let ini: string;
  try {
    ini = await readFile(path.join(projectDir, 'platformio.ini'), 'utf8');
  } catch {
    return undefined;
  }
  const envs: string[] = [];
  let defaults: string[] | undefined;
  let section = '';
  for (const rawLine of ini.split(/\r?\n/)) {
    const line = rawLine.replace(/\s[;#].*$/, '').trim();
    if (line === '' || line.startsWith(';') || line.startsWith('#')) continue;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      section = (header[1] as string).trim();
      const env = /^env:(.+)$/.exec(section);
      if (env) envs.push((env[1] as string).trim());
      continue;
    }
    const option = /^default_envs\s*=\s*(.*)$/.exec(line);
    if (section === 'platformio' && option) {
      defaults = (option[1] as string).split(/[\s,]+/).filter((e) => e !== '');
    }
  }
  if (defaults !== undefined) return defaults.length === 1 ? defaults[0] : undefined;
  return envs.length === 1 ? envs[0] : undefined;
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

/**
 * Size, hashes, the registry's own image check, the version check and the OTA client marks in
 * one streamed pass over the image, so a large file is never held in memory. An image the
 * registry would refuse (an .elf, a merged factory image, a damaged file) fails here with the
 * registry's words, before anything is sent.
 */
export async function inspectFirmware(file: string, version: string): Promise<FirmwareInfo> {
  const inspector = new FirmwareInspector();
  const finder = new VersionFinder(version);
  try {
    for await (const chunk of createReadStream(file)) {
      inspector.update(chunk as Buffer);
      finder.push(chunk as Buffer);
    }
  } catch (error) {
    throw new DeployError(messages.firmwareUnreadable(file, (error as Error).message));
  }
  const { size, sha256, md5, image, otaClient } = inspector.finish();
  if ('error' in image) throw new DeployError(messages.invalidImage(file, image.error));
  return {
    path: file,
    size,
    sha256,
    md5,
    chip: image.chip,
    containsVersion: finder.found(),
    otaClient,
  };
}

/** Characters that would make "1.2.7" part of a longer version such as "1.2.70" or "11.2.7". */
const isVersionChar = (byte: number | undefined): boolean =>
  byte !== undefined && /[0-9A-Za-z.+-]/.test(String.fromCharCode(byte));
const isDigitOrDot = (byte: number | undefined): boolean =>
  byte !== undefined && /[0-9.]/.test(String.fromCharCode(byte));

/**
 * Looks for the version's ASCII bytes across chunk boundaries. A match counts only as a whole
 * version: not preceded by a digit or dot, not followed by a version character, so "1.2.7"
 * is found in `"1.2.7"` or `"v1.2.7"` but not in `"1.2.70"`.
 */
export class VersionFinder {
  private readonly needle: Buffer;
  /** The unexamined end of the data so far, plus the byte before it. */
  private carry: Buffer = Buffer.alloc(0);
  /** Absolute offset of carry[0] in the image. */
  private offset = 0;
  /** Absolute offset where the next match may start. */
  private next = 0;
  private matched = false;

  constructor(version: string) {
    this.needle = Buffer.from(version, 'latin1');
  }

  push(chunk: Buffer): void {
    if (this.matched) return;
    const window = Buffer.concat([this.carry, chunk]);
    let from = this.next - this.offset;
    for (;;) {
      const at = window.indexOf(this.needle, from);
      if (at === -1) {
        // Only a prefix of the needle can still start in the last needle.length - 1 bytes.
        from = Math.max(from, window.length - this.needle.length + 1);
        break;
      }
      if (at + this.needle.length >= window.length) {
        from = at; // whole, but the byte after it comes with the next chunk
        break;
      }
      if (this.accept(window, at, window[at + this.needle.length])) {
        this.matched = true;
        return;
      }
      from = at + 1;
    }
    // Keep from the byte before the next candidate: a match needs its neighbour on each side.
    const keepFrom = Math.max(0, from - 1);
    this.carry = window.subarray(keepFrom);
    this.next = this.offset + from;
    this.offset += keepFrom;
  }

  /** Call after the last chunk: a match at the very end of the image counts too. */
  found(): boolean {
    if (this.matched) return true;
    const at = this.carry.indexOf(this.needle, this.next - this.offset);
    return (
      at !== -1 &&
      at + this.needle.length === this.carry.length &&
      this.accept(this.carry, at, undefined)
    );
  }

  private accept(window: Buffer, at: number, after: number | undefined): boolean {
    // at === 0 only at the start of the image: the byte before is always kept otherwise.
    return !isDigitOrDot(at > 0 ? window[at - 1] : undefined) && !isVersionChar(after);
  }
}
