import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './registry.js';

/** The compiled CLI, as `npm start` and operators run it (npm test builds it first). */
const CLI = path.join(REPO_ROOT, 'build/server/cli/main.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * What a registry process gets of this process's environment: everything but OTA_* (an outer
 * setting would change what is tested) and NODE_OPTIONS (Jest's flags are not for children).
 */
function registryEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('OTA_') && name !== 'NODE_OPTIONS') env[name] = value;
  }
  return { ...env, ...extra };
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
