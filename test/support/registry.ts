import { afterAll, beforeAll } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, type RunningServer } from '../../server/app.js';
import { loadConfig, type ConfigFlags } from '../../server/config.js';
import { createContext, type AppContext } from '../../server/context.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function tempDataDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'ota-registry-test-'));
}

/** Resolves once `check()` holds, looking every 10 ms; throws naming `what` after `ms`. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  ms = 5000,
): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export interface TestRegistry {
  url: string;
  /** The listening server (tests that look at its connections). */
  server: RunningServer['server'];
  dataDir: string;
  context: AppContext;
  /** Creates a user through the service and returns its API key. */
  addUser(email?: string, password?: string | null): Promise<string>;
  /** Creates a device through the API; returns its id and token. */
  addDevice(apiKey: string, name?: string): Promise<{ id: string; token: string }>;
  close(): Promise<void>;
}

let users = 0;

/**
 * Where registries started by this file keep their data: the data directory, unless set. Each
 * entry gives variables for one registry (a bucket, a fresh database).
 */
const registryEnvs: Array<() => NodeJS.ProcessEnv | Promise<NodeJS.ProcessEnv>> = [];

/**
 * Registries this test file starts from now on read `env()` (OTA_STORAGE_URL, OTA_S3_ENDPOINT):
 * how test/support/s3.ts runs the API tests with firmware in S3.
 */
export function storeFirmwareWith(env: () => NodeJS.ProcessEnv): void {
  registryEnvs.push(env);
}

/**
 * Registries this test file starts from now on read `env()` too, once each (OTA_DATABASE_URL
 * of a database of their own): how test/support/postgres.ts runs the API tests on PostgreSQL.
 */
export function keepMetadataWith(env: () => Promise<NodeJS.ProcessEnv>): void {
  registryEnvs.push(env);
}

async function registryEnv(): Promise<NodeJS.ProcessEnv> {
  let env: NodeJS.ProcessEnv = {};
  for (const next of registryEnvs) env = { ...env, ...(await next()) };
  return env;
}

/** The fully wired registry on an ephemeral loopback port with its own data directory. */
export async function startRegistry(
  flags: ConfigFlags = {},
  dataDir = tempDataDir(),
): Promise<TestRegistry> {
  const config = loadConfig(
    { port: '0', host: '127.0.0.1', data: dataDir, 'no-request-log': true, ...flags },
    await registryEnv(),
  );
  const context = createContext(config);
  const running: RunningServer = await startServer(context);
  return {
    url: running.url,
    server: running.server,
    dataDir,
    context,
    async addUser(email = `user${++users}@example.com`, password = null) {
      return (await context.auth.addUser(email, 'user', password)).apiKey;
    },
    async addDevice(apiKey, name) {
      const res = await fetch(`${running.url}/v1/devices`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(name === undefined ? {} : { name }),
      });
      if (res.status !== 201) throw new Error(`device create: ${res.status} ${await res.text()}`);
      const body = (await res.json()) as { _id: string; token: string };
      return { id: body._id, token: body.token };
    },
    close: () => running.close(),
  };
}

/**
 * Starts a registry with one user before the tests of a file (or of the describe block it is
 * called in) and closes it after them; `use` receives both once started.
 */
export function startRegistryPerFile(use: (registry: TestRegistry, apiKey: string) => void): void {
  let registry: TestRegistry | undefined;
  beforeAll(async () => {
    registry = await startRegistry();
    use(registry, await registry.addUser());
  });
  afterAll(() => registry?.close());
}

export interface Reply {
  status: number;
  headers: Headers;
  body: unknown;
}

/** A JSON request; the body is parsed when the answer is JSON. */
export async function request(
  url: string,
  init: {
    method?: string;
    apiKey?: string;
    json?: unknown;
    headers?: Record<string, string>;
    body?: RequestInit['body'];
  } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.apiKey) headers.Authorization = `Bearer ${init.apiKey}`;
  let body = init.body;
  if (init.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(init.json);
  }
  const res = await fetch(url, { method: init.method ?? 'GET', headers, body });
  const type = res.headers.get('content-type') ?? '';
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: type.includes('json') ? JSON.parse(text) : text,
  };
}

export interface UploadFile {
  bytes: Buffer;
  filename?: string;
  field?: string;
}

/** POST /v1/ota/device (or another upload URL) as multipart/form-data, like curl -F. */
export function upload(
  url: string,
  apiKey: string | undefined,
  fields: Record<string, string>,
  files: UploadFile[] = [],
): Promise<Reply> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  for (const file of files) {
    form.append(file.field ?? 'firmware', new Blob([file.bytes]), file.filename ?? 'firmware.bin');
  }
  return request(url, { method: 'POST', apiKey, body: form });
}

/** Downloads a URL's body as bytes, with the response headers. */
export async function download(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; bytes: Buffer }> {
  const res = await fetch(url, { headers });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}
