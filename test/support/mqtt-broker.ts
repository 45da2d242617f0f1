import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { Aedes } from 'aedes';
import { freePort } from './serve-process.js';

/**
 * Real MQTT brokers for tests. The machine's Mosquitto (127.0.0.1:1883, as on the development
 * and CI machines) when it answers; otherwise an in-process `aedes` broker speaking the same
 * protocol. Which one ran is printed once per test file. The system broker is shared with
 * other tests and developers: use uniqueMqttUser() for every topic a test touches.
 */
export interface TestBroker {
  url: string;
  /** What is running, for the output: "mosquitto on 127.0.0.1:1883", "aedes (in-process)"... */
  kind: string;
  close(): Promise<void>;
}

/** A broker of the test's own, which it can kill and start again on the same port. */
export interface RestartableBroker extends TestBroker {
  /** Kills the broker at once (SIGKILL for Mosquitto): connections drop without a goodbye. */
  kill(): Promise<void>;
  /** Starts it again on the same port; resolves once it accepts connections. */
  restart(): Promise<void>;
}

const SYSTEM_URL = 'mqtt://127.0.0.1:1883';

let shared: Promise<TestBroker> | undefined;

/** The machine's Mosquitto if it answers, else one in-process aedes broker for this test file. */
export function sharedBroker(): Promise<TestBroker> {
  shared ??= (async () => {
    if (await answers(SYSTEM_URL)) {
      announce("mosquitto on 127.0.0.1:1883 (the machine's)");
      return { url: SYSTEM_URL, kind: 'mosquitto (system)', close: async () => undefined };
    }
    const broker = await startAedes(await freePort());
    announce(`${broker.kind}: no broker answered on 127.0.0.1:1883`);
    return broker;
  })();
  return shared;
}

/**
 * A private broker on a free port: a `mosquitto -c <generated conf>` child process when the
 * mosquitto binary is installed, else aedes in this process.
 */
export async function privateBroker(): Promise<RestartableBroker> {
  const port = await freePort();
  const binary = findMosquitto();
  const broker = binary ? await startMosquitto(binary, port) : await startAedes(port);
  announce(`private broker: ${broker.kind}`);
  return broker;
}

/** A user name (and so topic prefix) no other test uses, on the shared broker too. */
export function uniqueMqttUser(): string {
  return `t${randomBytes(6).toString('hex')}`;
}

/** A plain MQTT client (a device, or an observer in a test). */
export function mqttClient(url: string): Promise<MqttClient> {
  return connectAsync(url, {
    clientId: `test-${randomBytes(6).toString('hex')}`,
    reconnectPeriod: 200,
    connectTimeout: 5000,
  });
}

/**
 * Subscribes `client` to `filter` (resolving after the SUBACK) and collects what arrives under
 * the filter's fixed prefix (the client may have other subscriptions).
 */
export async function collectMessages(
  client: MqttClient,
  filter: string,
): Promise<Array<{ topic: string; payload: string }>> {
  const prefix = filter.replace(/[#+].*$/, '');
  const seen: Array<{ topic: string; payload: string }> = [];
  client.on('message', (topic, payload) => {
    if (topic.startsWith(prefix)) seen.push({ topic, payload: payload.toString() });
  });
  await client.subscribeAsync(filter, { qos: 1 });
  return seen;
}

function announce(what: string): void {
  process.stderr.write(`[mqtt-broker] ${what}\n`);
}

async function answers(url: string): Promise<boolean> {
  try {
    const client = await connectAsync(url, { connectTimeout: 2000, reconnectPeriod: 0 });
    await client.endAsync(true);
    return true;
  } catch {
    return false;
  }
}

async function waitForPort(port: number, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > until) throw new Error(`broker on port ${port} did not start`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function findMosquitto(): string | undefined {
  for (const dir of ['/usr/sbin', '/usr/local/sbin', ...(process.env.PATH ?? '').split(':')]) {
    const candidate = path.join(dir, 'mosquitto');
    if (dir && fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

async function startMosquitto(binary: string, port: number): Promise<RestartableBroker> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ota-mosquitto-'));
  const conf = path.join(dir, 'mosquitto.conf');
  fs.writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      'log_dest none',
    ].join('\n') + '\n',
  );
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(binary, ['-c', conf], { stdio: 'ignore' });
    await waitForPort(port);
  };
  const kill = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill('SIGKILL');
    });
  };
  await start();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    kind: `mosquitto -c ${conf} (port ${port})`,
    kill,
    restart: start,
    close: async () => {
      await kill();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startAedes(port: number): Promise<RestartableBroker> {
  let broker: Aedes | undefined;
  let server: net.Server | undefined;
  const sockets = new Set<net.Socket>();
  const start = async () => {
    broker = await Aedes.createBroker();
    const handle = broker.handle;
    server = net.createServer((socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      handle(socket);
    });
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(port, '127.0.0.1', () => resolve());
    });
  };
  const kill = async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => (broker ? broker.close(() => resolve()) : resolve()));
    server = undefined;
    broker = undefined;
  };
  await start();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    kind: `aedes (in-process, port ${port})`,
    kill,
    restart: start,
    close: kill,
  };
}
