import { mkdtemp, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Logger } from '../../action/logger.js';
import type { CommandRunner, RunOptions } from '../../action/runner.js';
import type { Sleep } from '../../action/retry.js';
import { inspectEspImage } from '../../contract/esp-image.js';
import { generateEspImage } from '../support/esp-image-generator.js';

/** Keeps every line and every registered secret, to assert on both. */
export class RecordingLogger implements Logger {
  readonly lines: string[] = [];
  readonly secrets: string[] = [];

  info(message: string): void {
    this.lines.push(message);
  }

  warning(message: string): void {
    this.lines.push(`warning: ${message}`);
  }

  debug(message: string): void {
    this.lines.push(`debug: ${message}`);
  }

  setSecret(value: string): void {
    this.secrets.push(value);
  }

  get warnings(): string[] {
    return this.lines.filter((line) => line.startsWith('warning: '));
  }
}

export interface RecordedRun {
  command: string;
  args: readonly string[];
  options: RunOptions;
}

/**
 * Stands in for the machine's programs: `tools` is what `which` finds, `onRun` decides the
 * exit code (and may write files, as a build would).
 */
export class FakeRunner implements CommandRunner {
  readonly runs: RecordedRun[] = [];

  constructor(
    public tools: Record<string, string> = {},
    private readonly onRun: (run: RecordedRun) => number | Promise<number> = () => 0,
  ) {}

  async which(tool: string): Promise<string | undefined> {
    return this.tools[tool];
  }

  async run(command: string, args: readonly string[], options: RunOptions = {}): Promise<number> {
    const run = { command, args, options };
    this.runs.push(run);
    return this.onRun(run);
  }
}

/** A sleep that returns at once and remembers how long it was asked to wait. */
export function recordingSleep(): { sleep: Sleep; delays: number[] } {
  const delays: number[] = [];
  return {
    delays,
    sleep: async (ms) => {
      delays.push(ms);
    },
  };
}

export async function tempDir(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), 'ota-deploy-test-'));
}

/**
 * A valid ESP32 image (as the registry and the client check it), `size` bytes (a multiple of
 * 16), with no version string in it but each of `embed` (a version literal, an OTA client
 * mark), between NULs as C strings are.
 */
export function fakeImage(size = 4096, ...embed: string[]): Buffer {
  return generateEspImage({
    size,
    appDesc: false,
    seed: 1,
    ...(embed.length > 0 ? { embedString: embed.map((text) => `\0${text}`).join('') } : {}),
  });
}

/** What the registry answers for an upload of `bytes` (contract/esp-image.ts), or '' if valid. */
export function registryImageMessage(bytes: Buffer): string {
  try {
    inspectEspImage(bytes);
    return '';
  } catch (err) {
    return (err as Error).message;
  }
}

export async function writeImage(dir: string, relative: string, image: Buffer): Promise<string> {
  const file = path.join(dir, relative);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, image);
  return file;
}
