#!/usr/bin/env node
/**
 * `ota-registry`: the registry server and the operator commands. Every command takes
 * `--data DIR` (env OTA_DATA_DIR) and `--json`; commands work while a server runs on the
 * same data (SQLite WAL). A bad argument: one line on stderr naming it, exit code 2.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, loadConfig, loadDataDir } from '../config.js';
import { createContext, type AppContext } from '../context.js';
import { KNOWN_CHIPS, parseChip } from '../../contract/chips.js';
import { HttpError } from '../errors.js';
import { updateState } from '../services/device-service.js';
import { runServe } from './serve.js';
import { readStdin } from './stdin.js';

export const USAGE = `Usage: ota-registry <command> [options]

Commands:
  serve [--port 3080] [--host 0.0.0.0] [--max-upload-size 8MiB] [--history 5] [--workers 1] [--no-request-log]
        [--log-format text|json]
  user add <email> [--password-stdin] [--role admin|user]
  key create --user <email>
  key revoke <apiKey>
  device add --user <email> [--name NAME] [--chip CHIP] [--id ID --token TOKEN]
  device list --user <email>

Every command: --data DIR (env OTA_DATA_DIR, default ./data), --json (one JSON object on stdout).
Server settings also come from OTA_PORT, OTA_HOST, OTA_MAX_UPLOAD_SIZE, OTA_HISTORY, OTA_WORKERS, OTA_REQUEST_LOG, OTA_LOG_FORMAT; flags win.`;

/** A mistake in the command line: exit code 2. */
class UsageError extends Error {}

const COMMON = {
  data: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options'];

function parse<O extends ParseArgsConfig['options']>(
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
    throw new UsageError(`unexpected argument "${parsed.positionals[positionals]}"`);
  }
  return parsed;
}

interface Output {
  json: boolean;
  /** Prints the result: the object with --json, else the human lines. */
  print(result: object, human: string): void;
}

function output(json: boolean): Output {
  return {
    json,
    print: (result, human) => process.stdout.write((json ? JSON.stringify(result) : human) + '\n'),
  };
}

function withContext<T>(
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

function requireString(value: string | boolean | undefined, flag: string): string {
  if (typeof value !== 'string' || value === '') throw new UsageError(`${flag} is required`);
  return value;
}

async function userCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub !== 'add')
    throw new UsageError(`unknown command "user ${sub ?? ''}" (expected: user add)`);
  const { values, positionals } = parse(
    rest,
    {
      'password-stdin': { type: 'boolean', default: false },
      role: { type: 'string', default: 'user' },
    },
    1,
  );
  const email = positionals[0];
  if (!email) throw new UsageError('user add needs an email address');
  if (values.role !== 'admin' && values.role !== 'user')
    throw new UsageError(`--role must be admin or user, not "${values.role}"`);
  const password = values['password-stdin'] ? (await readStdin()).replace(/\r?\n$/, '') : null;
  const out = output(values.json);
  await withContext(values.data, async ({ auth }) => {
    const { user, apiKey } = await auth.addUser(email, values.role as 'admin' | 'user', password);
    out.print(
      { id: user.id, email: user.email, role: user.role, apiKey },
      `Created ${user.role} ${user.email} (${user.id}).\nAPI key (shown once): ${apiKey}`,
    );
  });
}

async function keyCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'create') {
    const { values } = parse(rest, { user: { type: 'string' } }, 0);
    const email = requireString(values.user, '--user');
    const out = output(values.json);
    await withContext(values.data, ({ auth }) => {
      const apiKey = auth.createApiKey(auth.userByEmail(email));
      out.print({ apiKey }, `API key for ${email} (shown once): ${apiKey}`);
    });
  } else if (sub === 'revoke') {
    const { values, positionals } = parse(rest, {}, 1);
    const apiKey = positionals[0];
    if (!apiKey) throw new UsageError('key revoke needs the API key');
    const out = output(values.json);
    await withContext(values.data, ({ auth }) => {
      if (!auth.revokeApiKey(apiKey))
        throw new HttpError(404, 'No such API key (or it is already revoked)');
      out.print({ revoked: true }, 'API key revoked.');
    });
  } else {
    throw new UsageError(`unknown command "key ${sub ?? ''}" (expected: key create, key revoke)`);
  }
}

async function deviceCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'add') {
    const { values } = parse(
      rest,
      {
        user: { type: 'string' },
        name: { type: 'string' },
        id: { type: 'string' },
        token: { type: 'string' },
        chip: { type: 'string' },
      },
      0,
    );
    const email = requireString(values.user, '--user');
    if ((values.id === undefined) !== (values.token === undefined)) {
      throw new UsageError(
        '--id and --token go together (importing a device that already has both)',
      );
    }
    const out = output(values.json);
    await withContext(values.data, ({ auth, devices }) => {
      const owner = auth.userByEmail(email);
      const imported =
        values.id !== undefined ? { id: values.id, token: values.token! } : undefined;
      const chip = values.chip === undefined ? undefined : parseChip(values.chip);
      if (values.chip !== undefined && !chip) {
        throw new UsageError(
          `--chip "${values.chip}" is not known (expected one of: ${KNOWN_CHIPS.join(', ')})`,
        );
      }
      const { device, token } = devices.create(owner.id, values.name, imported, chip);
      out.print(
        {
          _id: device.id,
          name: device.name,
          owner: device.owner,
          ...(device.chip !== null ? { chip: device.chip } : {}),
          token,
        },
        `Device ${device.name}\n  id:    ${device.id}\n  token: ${token} (shown once)`,
      );
    });
  } else if (sub === 'list') {
    const { values } = parse(rest, { user: { type: 'string' } }, 0);
    const email = requireString(values.user, '--user');
    const out = output(values.json);
    await withContext(values.data, ({ auth, devices }) => {
      const owner = auth.userByEmail(email);
      // version: what the device is served (its group's firmware when it is in a group that has one).
      const list = devices.all(owner.id).map((device) => ({
        _id: device.id,
        name: device.name,
        created_at: device.createdAt,
        last_contact: device.lastContact,
        version: device.servedVersion,
        chip: device.chip,
        group: device.groupId,
        running_version: device.runningVersion,
        update_state: updateState(device),
      }));
      const human = list.length
        ? list.map((d) => `${d._id}  ${d.version ?? '-'}\t${d.name}`).join('\n')
        : `No devices for ${email}.`;
      out.print({ devices: list }, human);
    });
  } else {
    throw new UsageError(
      `unknown command "device ${sub ?? ''}" (expected: device add, device list)`,
    );
  }
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  const json = argv.includes('--json');
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      process.stdout.write(USAGE + '\n');
      return command === undefined ? 2 : 0;
    }
    if (args.includes('--help') || args.includes('-h')) {
      process.stdout.write(USAGE + '\n');
      return 0;
    }
    switch (command) {
      case 'serve':
        return await runServe(parse(args, SERVE_OPTIONS, 0).values);
      case 'user':
        await userCommand(args);
        return 0;
      case 'key':
        await keyCommand(args);
        return 0;
      case 'device':
        await deviceCommand(args);
        return 0;
      default:
        throw new UsageError(`unknown command "${command}" (run ota-registry --help)`);
    }
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof UsageError || err instanceof ConfigError) {
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

const SERVE_OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  'max-upload-size': { type: 'string' },
  history: { type: 'string' },
  workers: { type: 'string' },
  'no-request-log': { type: 'boolean', default: false },
  'log-format': { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

process.exitCode = await main(process.argv.slice(2));
