import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { envPairs, options, parseDockerfile, type Stage } from '../support/dockerfile.js';
import { generateEspImage } from '../support/esp-image-generator.js';
import { md5 } from '../support/hashes.js';
import { REPO_ROOT, download, upload } from '../support/registry.js';
import { freePort } from '../support/serve-process.js';

const DOCKERFILE = path.join(REPO_ROOT, 'deploy/docker/Dockerfile');
const COMPOSE = path.join(REPO_ROOT, 'deploy/docker/compose.yaml');

/** A build's steps take minutes (npm ci): this is their time, not a test's. */
const BUILD_TIMEOUT_MS = 8 * 60_000;

/**
 * No Docker engine runs here, so the test does what `docker build` would with the Dockerfile:
 * the build context (the repository's files less Dockerfile.dockerignore) is copied into the
 * build stage's WORKDIR, each RUN runs as written with `sh -c`, the runtime stage gets what its
 * `COPY --from` lines name, and ENTRYPOINT + CMD start it with ENV's settings. Absolute paths
 * of each stage live under a directory of their own. What differs from a real build: the host's
 * Node runs the steps (the image has Node 24), `--chown` is not applied (no `node` user here),
 * and better-sqlite3's prebuilt binary, which npm ci fetches from GitHub in a real build, comes
 * from a loopback mirror serving the one already built in node_modules (building it from source
 * would take minutes of both cores).
 */
describe('deploy/docker: the Dockerfile built and run without a Docker engine', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ota-docker-'));
  const buildRoot = path.join(work, 'build-stage');
  const imageRoot = path.join(work, 'image');
  let stages: Stage[];
  let mirror: http.Server;
  const mirrored: string[] = [];
  let runtimeEnv: Record<string, string>;
  let entrypoint: string[];
  let workdir: string;
  let server: ChildProcess | undefined;

  const inStage = (root: string, file: string) => path.join(root, file);

  beforeAll(async () => {
    stages = parseDockerfile(DOCKERFILE);
    expect(stages.map((stage) => stage.name)).toEqual(['build', undefined]);
    mirror = await betterSqliteMirror(work, mirrored);
    const mirrorUrl = `http://127.0.0.1:${(mirror.address() as AddressInfo).port}`;

    // The build stage.
    let cwd = buildRoot;
    for (const { keyword, args } of stages[0].instructions) {
      if (keyword === 'WORKDIR') {
        cwd = inStage(buildRoot, args);
        fs.mkdirSync(cwd, { recursive: true });
      } else if (keyword === 'COPY') {
        expect(args).toBe('. .');
        copyContext(cwd);
      } else if (keyword === 'RUN') {
        await shell(args, cwd, {
          PATH: process.env.PATH!,
          HOME: process.env.HOME ?? os.homedir(),
          npm_config_better_sqlite3_binary_host: mirrorUrl,
        });
      } else {
        throw new Error(`build stage: ${keyword} is not emulated`);
      }
    }

    // The runtime stage: only copies and settings.
    runtimeEnv = {};
    workdir = imageRoot;
    for (const { keyword, args } of stages[1].instructions) {
      if (keyword === 'ENV') {
        for (const [name, value] of envPairs(args)) {
          runtimeEnv[name] = value.startsWith('/') ? inStage(imageRoot, value) : value;
        }
      } else if (keyword === 'WORKDIR') {
        workdir = inStage(imageRoot, args);
        fs.mkdirSync(workdir, { recursive: true });
      } else if (keyword === 'COPY') {
        const { flags, rest } = options(args);
        expect(flags.from).toBe('build');
        const [from, to] = rest.split(/\s+/);
        const target = to.startsWith('/') ? inStage(imageRoot, to) : path.join(workdir, to);
        fs.cpSync(inStage(buildRoot, from), target, { recursive: true });
        if (flags.chmod) fs.chmodSync(target, parseInt(flags.chmod, 8));
      } else if (keyword === 'CMD') {
        entrypoint = [...entrypoint!, ...(JSON.parse(args) as string[])];
      } else if (keyword === 'ENTRYPOINT') {
        entrypoint = JSON.parse(args) as string[];
      } else if (!['USER', 'VOLUME', 'EXPOSE', 'STOPSIGNAL', 'HEALTHCHECK'].includes(keyword)) {
        throw new Error(`runtime stage: ${keyword} is not emulated`);
      }
    }
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    if (server && server.exitCode === null) server.kill('SIGKILL');
    await new Promise((resolve) => mirror?.close(resolve));
    fs.rmSync(work, { recursive: true, force: true });
  });

  const instruction = (keyword: string) =>
    stages[1].instructions.find((i) => i.keyword === keyword)!.args;

  test('the build installs better-sqlite3 the way a real one does, and keeps production dependencies only', () => {
    // npm ci asked for the prebuilt binary (here: the mirror).
    expect(
      mirrored.some((url) => /better-sqlite3-v[\d.]+-node-v\d+-linux-x64\.tar\.gz$/.test(url)),
    ).toBe(true);
    const modules = path.join(workdir, 'node_modules');
    for (const runtime of ['koa', 'better-sqlite3', 'prom-client', 'semver'])
      expect(fs.existsSync(path.join(modules, runtime))).toBe(true);
    for (const dev of ['typescript', 'jest', 'eslint'])
      expect(fs.existsSync(path.join(modules, dev))).toBe(false);
    expect(fs.statSync(runtimeEnv.OTA_DATA_DIR).mode & 0o777).toBe(0o700);
  });

  test('the image serves: ENTRYPOINT + CMD start the registry, HEALTHCHECK passes, firmware round-trips, SIGTERM exits 0', async () => {
    const port = await freePort();
    // As `docker run -e OTA_PORT=... -e OTA_HOST=127.0.0.1` (only loopback traffic here).
    const env = {
      PATH: process.env.PATH!,
      ...runtimeEnv,
      OTA_PORT: String(port),
      OTA_HOST: '127.0.0.1',
    };
    const [command, ...args] = entrypoint;
    expect(args.at(-1)).toBe('serve');
    server = spawn(command, args, { cwd: workdir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    server.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    server.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => server!.once('exit', resolve));
    const until = Date.now() + 20_000;
    while (!output.includes('listening on')) {
      if (Date.now() > until || server.exitCode !== null) throw new Error(`no start: ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const { flags, rest } = options(instruction('HEALTHCHECK'));
    expect(flags.interval).toBe('30s');
    const check = JSON.parse(rest.replace(/^CMD\s+/, '')) as string[];
    const health = spawnSync(check[0], check.slice(1), { cwd: workdir, env, encoding: 'utf8' });
    expect(health.status).toBe(0);

    // `docker exec <container> node build/server/cli/main.js user add ...`
    const cli = (...cliArgs: string[]) => {
      const result = spawnSync(command, [...args.slice(0, -1), ...cliArgs, '--json'], {
        cwd: workdir,
        env,
        encoding: 'utf8',
      });
      expect(result.status).toBe(0);
      return JSON.parse(result.stdout) as Record<string, string>;
    };
    const { apiKey } = cli('user', 'add', 'docker@example.com');
    const device = cli('device', 'add', '--user', 'docker@example.com');
    const url = `http://127.0.0.1:${port}`;
    const firmware = generateEspImage({ seed: 91 });
    const fields = { device: device._id, token: device.token, version: '1.0.0' };
    expect(
      (await upload(`${url}/v1/ota/device`, apiKey, fields, [{ bytes: firmware }])).status,
    ).toBe(201);
    const got = await download(`${url}/v1/ota/device/download/${device._id}${device.token}`);
    expect(got.bytes.equals(firmware)).toBe(true);
    expect(got.headers.get('x-md5')).toBe(md5(firmware));
    expect(fs.existsSync(path.join(runtimeEnv.OTA_DATA_DIR, 'registry.db'))).toBe(true);
    // The dashboard's page and its script come with the image.
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    const script = /src="([^"]+\.js)"/.exec(await page.text())![1];
    expect((await fetch(`${url}${script}`)).status).toBe(200);

    expect(instruction('STOPSIGNAL')).toBe('SIGTERM');
    server.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  test('compose.yaml builds this Dockerfile from the repository and keeps /data in a volume', () => {
    const compose = fs.readFileSync(COMPOSE, 'utf8');
    const context = /^\s+context:\s*(\S+)$/m.exec(compose)![1];
    const dockerfile = /^\s+dockerfile:\s*(\S+)$/m.exec(compose)![1];
    expect(path.resolve(path.dirname(COMPOSE), context)).toBe(REPO_ROOT);
    expect(path.join(REPO_ROOT, dockerfile)).toBe(DOCKERFILE);
    expect(instruction('VOLUME')).toBe('/data');
    expect(envPairs(instruction('ENV'))).toContainEqual(['OTA_DATA_DIR', '/data']);
    expect(compose).toMatch(/^\s+- registry-data:\/data$/m);
    expect(instruction('EXPOSE')).toBe('3080');
    expect(compose).toMatch(/^\s+- '127\.0\.0\.1:3080:3080'$/m);
    // Longer than the registry's 30 s for in-flight downloads after SIGTERM.
    expect(Number(/stop_grace_period:\s*(\d+)s/.exec(compose)![1])).toBeGreaterThan(30);
  });

  /** The build context: the repository's files (tracked or not ignored) less the dockerignore. */
  function copyContext(into: string): void {
    const ignore = fs
      .readFileSync(`${DOCKERFILE}.dockerignore`, 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    for (const pattern of ignore) expect(pattern).toMatch(/^[\w./-]+$/);
    const listed = spawnSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    expect(listed.status).toBe(0);
    for (const file of listed.stdout.split('\n')) {
      if (file === '' || ignore.some((p) => file === p || file.startsWith(`${p}/`))) continue;
      if (!fs.existsSync(path.join(REPO_ROOT, file))) continue; // deleted, not yet committed
      fs.mkdirSync(path.dirname(path.join(into, file)), { recursive: true });
      fs.copyFileSync(path.join(REPO_ROOT, file), path.join(into, file));
    }
  }
});

/** `sh -c <command>` in `cwd`; rejects with its output when it fails. */
function shell(command: string, cwd: string, env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`RUN ${command}: exit ${code}\n${output}`)),
    );
  });
}

/**
 * Serves node_modules' own better-sqlite3 binary, packed as prebuild-install expects a release
 * asset (build/Release/better_sqlite3.node in a .tar.gz), for any URL; records what was asked.
 */
async function betterSqliteMirror(work: string, asked: string[]): Promise<http.Server> {
  const tarball = path.join(work, 'better-sqlite3-prebuilt.tar.gz');
  const packed = spawnSync(
    'tar',
    [
      '-czf',
      tarball,
      '-C',
      path.join(REPO_ROOT, 'node_modules/better-sqlite3'),
      'build/Release/better_sqlite3.node',
    ],
    { encoding: 'utf8' },
  );
  if (packed.status !== 0) throw new Error(`tar: ${packed.stderr}`);
  const server = http.createServer((req, res) => {
    asked.push(req.url ?? '');
    res.writeHead(200, { 'Content-Type': 'application/gzip' });
    fs.createReadStream(tarball).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}
