import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadConfig, loadDataDir } from '../config.js';
import { createContext, type AppContext } from '../context.js';
import { Messages } from '../errors.js';

/** A mistake in the command line: exit code 2. */
export class UsageError extends Error {}

/** What every command takes. */
const COMMON = {
  data: { type: 'string' },
  database: { type: 'string' },
  storage: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options'];

/** A command's flags (plus COMMON) and at most `positionals` arguments; UsageError otherwise. */
export function parse<O extends ParseArgsConfig['options']>(
  args: string[],
  options: O,
  positionals: number,
) {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { ...COMMON, ...options },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]);
  }
  if (parsed.positionals.length > positionals) {
    throw new UsageError(Messages.unexpectedArgument(parsed.positionals[positionals]));
  }
  return parsed;
}

export function requireString(value: string | boolean | undefined, flag: string): string {
  if (typeof value !== 'string' || value === '') throw new UsageError(Messages.flagRequired(flag));
  return value;
}

/** Prints a command's result: the object with --json, else the human lines. */
export function printer(json: boolean): (result: object, human: string) => void {
  return (result, human) => process.stdout.write((json ? JSON.stringify(result) : human) + '\n');
}

/** The settings that say where a registry's data is: the same for `serve` and every command. */
const LOCATION_VARIABLES = [
  'OTA_DATABASE_URL',
  'OTA_STORAGE_URL',
  'OTA_S3_ENDPOINT',
  'OTA_S3_REGION',
] as const;

/**
 * Runs an operator command against the registry's data (`--data`, OTA_DATA_DIR; `--database`,
 * OTA_DATABASE_URL; `--storage`, OTA_STORAGE_URL) while a server may run on it too (SQLite WAL,
 * or PostgreSQL), and closes the database afterwards.
 */
export function withContext<T>(
  flags: { data?: string; database?: string; storage?: string },
  run: (context: AppContext) => T | Promise<T>,
): Promise<T> {
  const dataDir = loadDataDir(flags.data);
  const env = Object.fromEntries(LOCATION_VARIABLES.map((name) => [name, process.env[name]]));
  // historyDepth etc. do not matter to operator commands; the defaults are used.
  const config = loadConfig(
    { data: dataDir, database: flags.database, storage: flags.storage },
    env,
  );
  const context = createContext({ ...config, dataDir }, { serving: false });
  return Promise.resolve()
    .then(() => run(context))
    .finally(async () => {
      await context.counting.stop();
      context.files.close();
      context.db.close();
    });
}
