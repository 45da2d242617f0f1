#!/usr/bin/env node
/**
 * `ota-registry`: the registry server and the operator commands, one file each (serve.ts,
 * user.ts, key.ts, device.ts). Every command takes `--data DIR` (env OTA_DATA_DIR) and
 * `--json`; commands work while a server runs on the same data (SQLite WAL). A bad argument:
 * one line on stderr naming it, exit code 2.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { packageVersion } from '../../contract/package-version.js';
import { ConfigError } from '../config.js';
import { HttpError, Messages } from '../errors.js';
import { BackupError } from '../storage/sqlite/backup.js';
import { UsageError } from './args.js';
import { backupCommand } from './backup.js';
import { copyDataCommand } from './copy-data.js';
import { deviceCommand } from './device.js';
import { keyCommand } from './key.js';
import { serveCommand } from './serve.js';
import { userCommand } from './user.js';

export const USAGE = `Usage: ota-registry <command> [options]

Commands:
  serve [--port 3080] [--host 0.0.0.0] [--max-upload-size 8MiB] [--history 5] [--workers 1] [--no-request-log]
        [--log-format text|json] [--trust-proxy] [--download-idle-timeout 120] [--metrics-token TOKEN]
        [--mqtt mqtt://[user:pass@]host[:port]] [--mqtt-device-trigger-topic T] [--mqtt-group-trigger-topic T]
        [--mqtt-response-topic T] [--mqtt-status-topic T] [--device-failure-limit 100]
        [--silent-after 24h]
  user add <email> [--password-stdin] [--role admin|user] [--mqtt-user NAME]
  user set <email> --mqtt-user NAME   (an empty NAME removes it)
  key create --user <email>
  key revoke <apiKey>
  device add --user <email> [--name NAME] [--chip CHIP] [--id ID --token TOKEN]
  device list --user <email>
  backup <dir>                       (a consistent copy, while a server runs; see docs/self-hosting.md)
  copy-data --from <data dir>        copies a SQLite registry into this one's --database/--storage
                                     (again: copies only what is missing; see docs/storage.md)
  --version                          this program's version

Every command: --data DIR (env OTA_DATA_DIR, default ./data), --json (one JSON object on stdout).
Server settings also come from OTA_PORT, OTA_HOST, OTA_MAX_UPLOAD_SIZE, OTA_HISTORY, OTA_WORKERS, OTA_REQUEST_LOG,
OTA_LOG_FORMAT, OTA_TRUST_PROXY, OTA_DOWNLOAD_IDLE_TIMEOUT, OTA_MQTT_URL, OTA_MQTT_DEVICE_TRIGGER_TOPIC, OTA_MQTT_GROUP_TRIGGER_TOPIC, OTA_MQTT_RESPONSE_TOPIC,
OTA_MQTT_STATUS_TOPIC, OTA_METRICS_TOKEN; flags win. Push over MQTT: docs/push.md.`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  const json = argv.includes('--json');
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      process.stdout.write(USAGE + '\n');
      return command === undefined ? 2 : 0;
    }
    if (command === '--version' || command === '-V') {
      process.stdout.write(`ota-registry ${packageVersion()}\n`);
      return 0;
    }
    if (args.includes('--help') || args.includes('-h')) {
      process.stdout.write(USAGE + '\n');
      return 0;
    }
    switch (command) {
      case 'serve':
        return await serveCommand(args);
      case 'user':
        await userCommand(args);
        return 0;
      case 'key':
        await keyCommand(args);
        return 0;
      case 'device':
        await deviceCommand(args);
        return 0;
      case 'backup':
        await backupCommand(args);
        return 0;
      case 'copy-data':
        return await copyDataCommand(args);
      default:
        throw new UsageError(Messages.unknownCommand(command));
    }
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof UsageError || err instanceof ConfigError || err instanceof BackupError) {
      process.stderr.write(`ota-registry: ${message}\n`);
      return 2;
    }
    if (err instanceof HttpError) {
      if (json) process.stdout.write(JSON.stringify({ message }) + '\n');
      process.stderr.write(`ota-registry: ${message}\n`);
      return 1;
    }
    process.stderr.write(`ota-registry: ${message}\n`);
    return 1;
  }
}

/** Started as a program (the `ota-registry` bin, a cluster worker), not when imported: tests call main. */
if (
  process.argv[1] !== undefined &&
  realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)
) {
  process.exitCode = await main(process.argv.slice(2));
}
