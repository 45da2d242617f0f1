import { DeployError } from './errors.js';
import * as messages from './messages.js';
import type { Logger } from './logger.js';
import type { CommandRunner } from './runner.js';

/** How to start PlatformIO: `pio`, or `python -m platformio` when pip put no script on PATH. */
export interface PioCommand {
  command: string;
  args: readonly string[];
}

export interface BuildOptions {
  projectDir: string;
  environment?: string;
  /** Defines FIRMWARE_VERSION as this C string in the build, when given. */
  injectVersion?: string;
}

/**
 * The `-D` flag that makes FIRMWARE_VERSION a C string literal. PlatformIO splits build flags
 * the way a POSIX shell does, so the quotes are escaped to survive into the compiler's argv.
 * A semantic version has no quote, space or backslash that could break out of them.
 */
export function versionFlag(version: string): string {
  return `-DFIRMWARE_VERSION=\\"${version}\\"`;
}

/** PLATFORMIO_BUILD_FLAGS with the version flag added after whatever the user already set. */
export function buildFlags(existing: string | undefined, version: string): string {
  const flag = versionFlag(version);
  return existing && existing.trim() !== '' ? `${existing} ${flag}` : flag;
}

export class PlatformIO {
  constructor(
    private readonly runner: CommandRunner,
    private readonly logger: Logger,
    private readonly env: Readonly<Record<string, string | undefined>> = process.env,
  ) {}

  /** Finds PlatformIO on PATH, or installs it with pip when allowed. */
  async locate(install: boolean): Promise<PioCommand> {
    const found = (await this.runner.which('pio')) ?? (await this.runner.which('platformio'));
    if (found !== undefined) return { command: found, args: [] };
    if (!install) {
      throw new DeployError(messages.pioMissing);
    }
    const python = (await this.runner.which('python3')) ?? (await this.runner.which('python'));
    if (python === undefined) {
      throw new DeployError(messages.pioNoPython);
    }
    this.logger.info('PlatformIO (pio) is not on PATH; installing it with pip.');
    const code = await this.runner.run(python, ['-m', 'pip', 'install', '--upgrade', 'platformio']);
    if (code !== 0) {
      throw new DeployError(messages.pioInstallFailed(code));
    }
    const installed = await this.runner.which('pio');
    return installed !== undefined
      ? { command: installed, args: [] }
      : { command: python, args: ['-m', 'platformio'] };
  }

  /** `pio run -d <project> [-e <env>]`, with FIRMWARE_VERSION defined when asked. */
  async build(pio: PioCommand, options: BuildOptions): Promise<void> {
    const args = [...pio.args, 'run', '-d', options.projectDir];
    if (options.environment !== undefined) args.push('-e', options.environment);
    const env: Record<string, string> = {};
    if (options.injectVersion !== undefined) {
      env['PLATFORMIO_BUILD_FLAGS'] = buildFlags(
        this.env['PLATFORMIO_BUILD_FLAGS'],
        options.injectVersion,
      );
      this.logger.info(`Defining FIRMWARE_VERSION as "${options.injectVersion}" for the build.`);
    }
    const code = await this.runner.run(pio.command, args, { env });
    if (code !== 0) {
      throw new DeployError(messages.pioRunFailed(code));
    }
  }
}
