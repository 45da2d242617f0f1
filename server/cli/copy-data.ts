import fs from 'node:fs';
import path from 'node:path';
import { loadDatabase, loadDataDir } from '../config.js';
import { Messages } from '../errors.js';
import {
  copyRegistry,
  CopySourceError,
  openSource,
  type CopySummary,
} from '../storage/copy-data.js';
import { parse, printer, UsageError, withContext } from './args.js';

/**
 * `ota-registry copy-data --from <data dir>`: copies a SQLite registry (its registry.db and
 * firmware files) into the backend this command is configured for (`--database`, `--storage`,
 * `--data`), e.g. PostgreSQL and S3 (docs/storage.md, "Moving a registry to PostgreSQL and S3").
 * Running it again copies only what is not there yet. Exit code 1 when a kept version could not
 * be copied (its file missing or damaged): everything else was.
 */
export async function copyDataCommand(args: string[]): Promise<number> {
  const { values } = parse(args, { from: { type: 'string' } }, 0);
  if (values.from === undefined || values.from.trim() === '')
    throw new UsageError(Messages.copyFromMissing);
  const from = path.resolve(values.from);
  const dataDir = loadDataDir(values.data);
  const database = loadDatabase(values.database, process.env);
  const same = sameDirectory(from, dataDir);
  // The target would be the source's own registry.db, opened for writing: never.
  if (same && !database) throw new UsageError(Messages.copySameTarget(from));
  let source;
  try {
    source = openSource(from);
  } catch (err) {
    throw err instanceof CopySourceError ? new UsageError(err.message) : err;
  }
  const print = printer(values.json);
  try {
    return await withContext(values, async (context) => {
      const summary = await copyRegistry(
        source,
        {
          db: context.db,
          files: context.files,
          // PostgreSQL beside the same data directory's files: the bytes already are in place.
          sameFiles: same && context.files.kind === 'local-files',
        },
        values.json ? undefined : (line) => process.stderr.write(`${line}\n`),
      );
      const target = `${context.db.name} and ${context.files.description}`;
      print({ ...summary, to: target }, humanLines(summary, target));
      return summary.firmware.damaged.length > 0 ? 1 : 0;
    });
  } catch (err) {
    throw err instanceof CopySourceError ? new UsageError(err.message) : err;
  } finally {
    source.close();
  }
}

function sameDirectory(a: string, b: string): boolean {
  const real = (dir: string) => {
    try {
      return fs.realpathSync(dir);
    } catch {
      return dir;
    }
  };
  return real(a) === real(b);
}

function humanLines(summary: CopySummary, target: string): string {
  const line = (what: string, { copied, present }: { copied: number; present: number }) =>
    `  ${what}: ${copied} copied, ${present} already there`;
  const mib = (summary.firmware.bytes / 1024 / 1024).toFixed(1);
  const lines = [
    `Copied ${summary.from} into ${target}:`,
    line('users', summary.users),
    line('API keys and sessions', summary.tokens),
    line('groups', summary.groups),
    line('devices (with their check-ins)', summary.devices),
    `${line('firmware versions', summary.firmware)} (${mib} MiB stored)`,
    line('rollouts', summary.rollouts),
    line("rollouts' devices", summary.rolloutDevices),
    `  failed logins (throttling, transient): ${summary.loginFailuresSkipped} not copied`,
  ];
  const { damaged } = summary.firmware;
  if (damaged.length > 0) {
    lines.push(
      `${damaged.length} firmware version(s) NOT copied (nor their records); everything else was:`,
      ...damaged.map((d) => `  ${d.kind} ${d.target} version ${d.version}: ${d.problem}`),
      'Put the files back in place (from a backup) and run copy-data again: it copies only what is missing.',
    );
  }
  return lines.join('\n');
}
