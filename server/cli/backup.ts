import path from 'node:path';
import { loadDatabase, loadDataDir, loadStorage } from '../config.js';
import { Messages } from '../errors.js';
import { backupRegistry } from '../storage/sqlite/backup.js';
import { UsageError, parse, printer } from './args.js';

/**
 * `ota-registry backup <dir>`: a consistent copy of the registry in the data directory, made
 * while a server runs on it (storage/sqlite/backup.ts). `<dir>` is then a data directory:
 * restore by starting a registry on it, or by copying it in place of the old one
 * (docs/self-hosting.md).
 */
export async function backupCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, { storage: { type: 'string' } }, 1);
  if (!positionals[0])
    throw new UsageError(Messages.argumentMissing('backup', 'the directory to write it to'));
  refuseObjectStorage(values.storage);
  if (loadDatabase(values.database, process.env)) throw new UsageError(Messages.backupPostgres);
  const dataDir = loadDataDir(values.data);
  const summary = await backupRegistry(dataDir, path.resolve(positionals[0]));
  const mib = (summary.bytes / 1024 / 1024).toFixed(1);
  printer(values.json)(
    summary,
    `Backed up ${dataDir} to ${summary.dir}: the database and ${summary.versions} firmware version(s), ${mib} MiB.`,
  );
}

/**
 * With firmware in a bucket, a copy of the data directory would hold the database and no
 * firmware, and restoring it would name objects the bucket may since have swept: the bucket has
 * better tools of its own (docs/storage.md, "Backups").
 */
function refuseObjectStorage(flagValue: string | undefined): void {
  const storage = loadStorage(flagValue, process.env);
  if (!storage) return;
  throw new UsageError(Messages.backupObjectStorage(storage.bucket, storage.prefix));
}
