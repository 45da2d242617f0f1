import path from 'node:path';
import { loadDataDir } from '../config.js';
import { backupRegistry } from '../storage/sqlite/backup.js';
import { UsageError, parse, printer } from './args.js';

/**
 * `ota-registry backup <dir>`: a consistent copy of the registry in the data directory, made
 * while a server runs on it (storage/sqlite/backup.ts). `<dir>` is then a data directory:
 * restore by starting a registry on it, or by copying it in place of the old one
 * (docs/self-hosting.md).
 */
export async function backupCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, {}, 1);
  if (!positionals[0]) throw new UsageError('backup needs the directory to write it to');
  const dataDir = loadDataDir(values.data);
  const summary = await backupRegistry(dataDir, path.resolve(positionals[0]));
  const mib = (summary.bytes / 1024 / 1024).toFixed(1);
  printer(values.json)(
    summary,
    `Backed up ${dataDir} to ${summary.dir}: the database and ${summary.versions} firmware version(s), ${mib} MiB.`,
  );
}
