import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadConfig, loadDataDir } from '../config.js';
import { createContext, type AppContext } from '../context.js';
import { Messages } from '../errors.js';

/** A mistake in the command line: exit code 2. */
export class UsageError extends Error {}

/** What every command takes. */
const COMMON = {
  data: { type: 'string' },
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

/**
 * Runs an operator command against the data directory (`--data`, OTA_DATA_DIR) while a server
 * may run on it too (SQLite WAL), and closes the database afterwards.
 */
export function withContext<T>(
  dataFlag: string | undefined,
  run: (context: AppContext) => T | Promise<T>,
): Promise<T> {
  const dataDir = loadDataDir(dataFlag);
  // historyDepth etc. do not matter to operator commands; the defaults are used.
  const context = createContext({ ...loadConfig({ data: dataDir }, {}), dataDir });
  return Promise.resolve()
    .then(() => run(context))
    .finally(() => context.db.close());
}
