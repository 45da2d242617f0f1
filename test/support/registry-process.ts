import { spawn, type ChildProcess } from 'node:child_process';
import { REPO_ROOT, tempDataDir } from './registry.js';
import { REGISTRY_CLI as CLI, registryEnv } from './serve-process.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node <args>` to completion, with `input` on stdin. */
export function runNode(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: options.cwd ?? REPO_ROOT,
      env: options.env ?? registryEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    // A command that exits before reading its stdin (`--version`) closes the pipe first: the
    // write then fails with EPIPE, which says nothing about the command (seen under Node 24).
    child.stdin.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') reject(err);
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Runs `ota-registry <args>` to completion. */
export function runCli(
  args: string[],
  input?: string,
  env: NodeJS.ProcessEnv = {},
): Promise<CliResult> {
  return runNode([CLI, ...args], {
    env: registryEnv(env),
    ...(input !== undefined ? { input } : {}),
  });
}

/** `--json` output of a command that must succeed. */
export async function cliJson<T>(args: string[], input?: string): Promise<T> {
  const result = await runCli([...args, '--json'], input);
  if (result.code !== 0)
    throw new Error(`ota-registry ${args.join(' ')}: exit ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

/**
 * A user and one device of theirs, made with the operator CLI as an operator would:
 * `user add <email> [userArgs]` then `device add --user <email> [deviceArgs]`. `args` go to
 * both commands (e.g. `--database URL`, for a registry whose metadata is in PostgreSQL).
 */
export async function cliUserWithDevice(
  dataDir: string,
  email: string,
  {
    userArgs = [],
    deviceArgs = [],
    args = [],
  }: { userArgs?: string[]; deviceArgs?: string[]; args?: string[] } = {},
): Promise<{ apiKey: string; device: { _id: string; token: string } }> {
  const data = ['--data', dataDir, ...args];
  const { apiKey } = await cliJson<{ apiKey: string }>([
    'user',
    'add',
    email,
    ...userArgs,
    ...data,
  ]);
  const device = await cliJson<{ _id: string; token: string }>([
    'device',
    'add',
    '--user',
    email,
    ...deviceArgs,
    ...data,
  ]);
  return { apiKey, device };
}

const running = new Set<ChildProcess>();

/** Kills every registry process a test started and did not stop (for afterAll). */
export function killAllRegistries(): void {
  for (const child of running) child.kill('SIGKILL');
}

export interface RegistryProcess {
  url: string;
  child: ChildProcess;
  /** Everything printed on stdout so far. */
  output(): string;
  /** Resolves with the exit code (or signal) when the process ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `ota-registry serve` on an ephemeral port and waits for the URL it prints. */
export function spawnRegistry(
  dataDir: string,
  extraArgs: string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<RegistryProcess> {
  const child = spawn(
    process.execPath,
    [CLI, 'serve', '--port', '0', '--host', '127.0.0.1', '--data', dataDir, ...extraArgs],
    { env: registryEnv(env), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  running.add(child);
  let started = false;
  let stdout = '';
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    }),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`registry did not start: ${stdout}${stderr}`)),
      10000,
    );
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(stdout);
      if (match && !started) {
        started = true;
        clearTimeout(timer);
        // The lines printed with the URL (leftovers removed, first-start hint) may arrive in the next chunk.
        setTimeout(() => resolve({ url: match[1], child, output: () => stdout, exited }), 100);
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`registry exited with ${code}: ${stderr}`));
    });
  });
}

/** A registry process with its operator CLI, as the end-to-end tests deploy to it. */
export interface OperatedRegistry {
  url: string;
  dataDir: string;
  addUser(email: string, password?: string): Promise<{ id: string; apiKey: string }>;
  addDevice(email: string): Promise<{ id: string; token: string }>;
  /** Through the API (`POST /v1/groups`): the operator CLI has no group command. */
  addGroup(apiKey: string): Promise<{ id: string; token: string }>;
  latest(deviceId: string, kind?: 'device' | 'group'): Promise<{ status: number; body: unknown }>;
  download(deviceId: string, token: string): Promise<{ status: number; bytes: Buffer }>;
  stop(): Promise<void>;
}

/**
 * `ota-registry serve` on 127.0.0.1 and an ephemeral port, with its own data directory;
 * `serveArgs` are added to its command line (e.g. `--mqtt URL`).
 */
export async function startRegistryProcess(serveArgs: string[] = []): Promise<OperatedRegistry> {
  const dataDir = tempDataDir();
  const { url, child, exited } = await spawnRegistry(dataDir, serveArgs);
  const cli = (args: string[], input?: string) =>
    cliJson<Record<string, unknown>>([...args, '--data', dataDir], input);
  return {
    url,
    dataDir,
    async addUser(email, password) {
      const user = await cli(
        ['user', 'add', email, ...(password !== undefined ? ['--password-stdin'] : [])],
        password !== undefined ? `${password}\n` : undefined,
      );
      return { id: String(user['id']), apiKey: String(user['apiKey']) };
    },
    async addDevice(email) {
      const device = await cli(['device', 'add', '--user', email]);
      return { id: String(device['_id']), token: String(device['token']) };
    },
    async addGroup(apiKey) {
      const response = await fetch(`${url}/v1/groups`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'fleet' }),
      });
      const group = (await response.json()) as Record<string, unknown>;
      if (response.status !== 201)
        throw new Error(`POST /v1/groups: ${response.status} ${JSON.stringify(group)}`);
      return { id: String(group['_id']), token: String(group['token']) };
    },
    async latest(id, kind = 'device') {
      const response = await fetch(`${url}/v1/ota/${kind}/latest/${id}`);
      return { status: response.status, body: (await response.json()) as unknown };
    },
    async download(deviceId, token) {
      const response = await fetch(`${url}/v1/ota/device/download/${deviceId}${token}`);
      return { status: response.status, bytes: Buffer.from(await response.arrayBuffer()) };
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
