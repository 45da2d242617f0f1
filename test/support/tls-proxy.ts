import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { REPO_ROOT } from './registry.js';

/** The name the self-signed certificate is for, and the one the shipped configs use. */
export const SITE = 'ota.example.com';

/** A self-signed certificate for SITE and 127.0.0.1, made by openssl; returns the file paths. */
export function selfSignedCertificate(dir: string): { cert: string; key: string } {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  const made = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${SITE}`,
      '-addext',
      `subjectAltName=DNS:${SITE},IP:127.0.0.1`,
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { encoding: 'utf8' },
  );
  if (made.status !== 0) throw new Error(`openssl: ${made.stderr}`);
  return { cert, key };
}

/**
 * A shipped configuration file with the test's ports and paths put in. Every `from` must occur
 * in the file exactly `times` times (default 1), so a change to the shipped file that the test
 * would no longer cover fails here instead of passing unnoticed.
 */
export function adaptConfig(
  relative: string,
  replacements: { from: string; to: string; times?: number }[],
): string {
  let text = fs.readFileSync(path.join(REPO_ROOT, relative), 'utf8');
  for (const { from, to, times = 1 } of replacements) {
    const found = text.split(from).length - 1;
    if (found !== times) {
      throw new Error(`${relative}: expected "${from}" ${times} time(s), found ${found}`);
    }
    text = text.split(from).join(to);
  }
  return text;
}

export interface ProxyProcess {
  child: ChildProcess;
  /** Everything it printed on stderr (nginx's errors, Caddy's log). */
  output(): string;
  /** Stops it and waits for its exit. */
  stop(): Promise<void>;
}

/** Starts a proxy in the foreground as a child; resolves once `port` accepts TLS connections. */
export async function startProxy(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  port: number,
  stopSignal: NodeJS.Signals,
): Promise<ProxyProcess> {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const until = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${command} exited: ${output}`);
    if (await accepts(port)) break;
    if (Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`${command} did not listen on ${port}: ${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill(stopSignal);
      await exited;
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * An HTTP server between the proxy and the registry that passes every request through
 * unchanged and remembers the X-Forwarded-For the proxy sent. (The registry takes the client
 * address from that header only with --trust-proxy, which is not on this branch; this is where
 * the test sees what the proxy hands on.)
 */
export async function startTap(
  registryUrl: string,
): Promise<{ port: number; forwardedFor: (string | undefined)[]; close(): Promise<void> }> {
  const upstream = new URL(registryUrl);
  const forwardedFor: (string | undefined)[] = [];
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => {
    forwardedFor.push(req.headers['x-forwarded-for'] as string | undefined);
    const forward = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode!, answer.rawHeaders);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    forwardedFor,
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface SimpleResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A request to `base` (http or https, trusting `ca`), with `Host: SITE`. */
export function siteRequest(
  base: string,
  pathname: string,
  options: { ca: Buffer; method?: string; headers?: Record<string, string>; body?: Buffer },
): Promise<SimpleResponse> {
  const url = new URL(pathname, base);
  const secure = url.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const req = (secure ? https : http).request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: options.method ?? 'GET',
        headers: { Host: SITE, ...options.headers },
        agent: false,
        ...(secure ? { ca: options.ca, servername: SITE } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}
