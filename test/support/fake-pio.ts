/**
 * A stand-in for PlatformIO, which cannot be installed here (no PyPI, no toolchains). It is a
 * `pio` executable put first on PATH: it records its arguments, working directory and the
 * build-flag environment to a JSON-lines file, and "builds" by copying a given ESP image to
 * `<project>/.pio/build/<env>/firmware.bin`, where `pio run` leaves it. A stand-in `python3`
 * does the same for `python3 -m pip install platformio`: it records the call and then puts
 * the stand-in `pio` on PATH, as pip does.
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';

export interface PioCall {
  /** `pio` or `python3`. */
  tool: string;
  args: string[];
  cwd: string;
  /** PLATFORMIO_BUILD_FLAGS as the build saw it, or null. */
  buildFlags: string | null;
}

export interface FakePio {
  /** Put this first on PATH. */
  binDir: string;
  /** The calls so far, in order. */
  calls(): Promise<PioCall[]>;
}

export interface FakePioOptions {
  /** The image every build "produces". */
  image: Buffer;
  /** Install `pio` itself (default), or only a `python3` that installs it when asked. */
  installed?: boolean;
  /** Exit code of `pio run` (default 0). */
  exitCode?: number;
}

/** The script behind both stand-ins; plain JavaScript so that node runs it without a build. */
const SCRIPT = String.raw`
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import * as path from 'node:path';

const [tool, stateDir, ...args] = process.argv.slice(2);
const state = JSON.parse(readFileSync(path.join(stateDir, 'state.json'), 'utf8'));
appendFileSync(
  path.join(stateDir, 'calls.jsonl'),
  JSON.stringify({ tool, args, cwd: process.cwd(), buildFlags: process.env.PLATFORMIO_BUILD_FLAGS ?? null }) + '\n',
);

if (tool === 'python3') {
  if (args.join(' ') !== '-m pip install --upgrade platformio') process.exit(3);
  console.log('Successfully installed platformio-6.1.16 (stand-in)');
  writeFileSync(path.join(stateDir, 'bin', 'pio'), state.pioLauncher);
  chmodSync(path.join(stateDir, 'bin', 'pio'), 0o755);
  process.exit(0);
}

if (args[0] !== 'run') {
  console.error('stand-in pio: only "pio run" is supported');
  process.exit(2);
}
const option = (name) => {
  const i = args.indexOf(name);
  return i === -1 ? undefined : args[i + 1];
};
const project = path.resolve(option('-d') ?? '.');
let env = option('-e');
if (env === undefined) {
  const ini = readFileSync(path.join(project, 'platformio.ini'), 'utf8');
  env = /^\[env:([^\]]+)\]/m.exec(ini)?.[1];
}
console.log('Processing ' + env + ' (platform: espressif32; framework: arduino) [stand-in]');
if (state.exitCode !== 0) {
  console.log('[FAILED] stand-in build error');
  process.exit(state.exitCode);
}
const out = path.join(project, '.pio', 'build', env);
mkdirSync(out, { recursive: true });
copyFileSync(state.image, path.join(out, 'firmware.bin'));
console.log('========== [SUCCESS] Took 0.01 seconds ==========');
`;

export async function installFakePio(stateDir: string, options: FakePioOptions): Promise<FakePio> {
  const binDir = path.join(stateDir, 'bin');
  await mkdir(binDir, { recursive: true });
  const script = path.join(stateDir, 'fake-pio.mjs');
  const image = path.join(stateDir, 'image.bin');
  await writeFile(script, SCRIPT);
  await writeFile(image, options.image);
  const launcher = (tool: string) =>
    `#!/bin/sh\nexec "${process.execPath}" "${script}" ${tool} "${stateDir}" "$@"\n`;
  await writeFile(
    path.join(stateDir, 'state.json'),
    JSON.stringify({ image, exitCode: options.exitCode ?? 0, pioLauncher: launcher('pio') }),
  );
  const tools = options.installed === false ? ['python3'] : ['pio'];
  for (const tool of tools) {
    await writeFile(path.join(binDir, tool), launcher(tool));
    await chmod(path.join(binDir, tool), 0o755);
  }
  return {
    binDir,
    calls: async () => {
      const text = await readFile(path.join(stateDir, 'calls.jsonl'), 'utf8').catch(() => '');
      return text
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as PioCall);
    },
  };
}

/** A minimal PlatformIO project: platformio.ini with the given environments and a main.cpp. */
export async function createPioProject(dir: string, environments: string[]): Promise<void> {
  await mkdir(path.join(dir, 'src'), { recursive: true });
  const sections = environments.map(
    (env) => `[env:${env}]\nplatform = espressif32\nboard = esp32dev\nframework = arduino\n`,
  );
  await writeFile(path.join(dir, 'platformio.ini'), sections.join('\n'));
  await writeFile(
    path.join(dir, 'src', 'main.cpp'),
    [
      '#include <Arduino.h>',
      '#ifndef FIRMWARE_VERSION',
      '#define FIRMWARE_VERSION "0.0.0-dev"',
      '#endif',
      'void setup() { Serial.begin(115200); Serial.println(FIRMWARE_VERSION); }',
      'void loop() {}',
      '',
    ].join('\n'),
  );
}
