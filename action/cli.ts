#!/usr/bin/env node
import { packageVersion } from '../contract/package-version.js';
import { HELP, parseCliArgs } from './cli-args.js';
import { ConsoleLogger } from './console-logger.js';
import { deploy } from './deploy.js';
import { SettingsError } from './errors.js';
import { ExecRunner } from './exec-runner.js';
import { otaClientList } from './messages.js';

/**
 * `ota-deploy`: the Action's deploy for any shell or CI. Progress and the build's output go to
 * stderr, the result to stdout. Exit codes: 0 deployed (or a dry run passed), 1 deploy failed,
 * 2 bad arguments.
 */
async function main(argv: readonly string[]): Promise<number> {
  const logger = new ConsoleLogger({ write: (line) => process.stderr.write(`${line}\n`) });
  let command;
  try {
    command = parseCliArgs(argv, process.env, process.cwd());
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error;
    // Flags may carry secrets; mask the ones we can name before echoing anything.
    for (const name of ['OTA_API_TOKEN', 'OTA_PASSWORD', 'OTA_DEVICE_TOKEN', 'OTA_GROUP_TOKEN']) {
      const value = process.env[name];
      if (value) logger.setSecret(value);
    }
    process.stderr.write(
      `ota-deploy: ${logger.mask(error.message)}\nRun ota-deploy --help for the options.\n`,
    );
    return 2;
  }
  if (command.kind === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (command.kind === 'tool-version') {
    process.stdout.write(`ota-deploy ${packageVersion()}\n`);
    return 0;
  }
  const verboseLogger = new ConsoleLogger({
    write: (line) => process.stderr.write(`${line}\n`),
    verbose: command.verbose,
  });
  try {
    const result = await deploy(command.settings, {
      logger: verboseLogger,
      runner: new ExecRunner(process.stderr),
    });
    process.stdout.write(
      command.json
        ? `${JSON.stringify(result)}\n`
        : `${result.status} ${result.version} to ${result.target.kind} ${result.target.id} ` +
            `(${result.size} bytes, sha256 ${result.sha256}, ` +
            `OTA client: ${otaClientList(result.otaClient)})\n`,
    );
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`ota-deploy: ${verboseLogger.mask(message)}\n`);
    return error instanceof SettingsError ? 2 : 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`ota-deploy: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
