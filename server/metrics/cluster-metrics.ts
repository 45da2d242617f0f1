import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, Registry } from 'prom-client';
import type { Counting } from '../storage/counting.js';
import { UpdateStateCounter } from '../storage/sqlite/update-state-counts.js';
import { deviceStateGauge } from './device-state-gauge.js';

/**
 * `/metrics` under `serve --workers N`. The kernel hands each connection to any worker, so a
 * worker's own counters would make every scrape a different, jumping series. Instead the worker
 * that is asked forwards the question to the primary, which collects every worker's registries
 * through prom-client's AggregatorRegistry (counters and memory summed; version info and the
 * like taken once) and adds `ota_devices`, which only the primary counts (once, not N times).
 * The primary's own process is not in it: it serves no request.
 */

const REQUEST = 'ota:metrics-request';
const ANSWER = 'ota:metrics-answer';
interface MetricsRequest {
  type: typeof REQUEST;
  id: number;
}
interface MetricsAnswer {
  type: typeof ANSWER;
  id: number;
  text?: string;
  error?: string;
}

/** How long a worker waits for the primary (which waits up to 5 s for each worker). */
const ANSWER_TIMEOUT_MS = 10_000;

/** Worker: lets the primary collect these registries. */
export function shareWithPrimary(registries: Registry[]): void {
  AggregatorRegistry.setRegistries(registries);
  // Constructing one is what installs prom-client's answering listener in a worker.
  new AggregatorRegistry();
}

let nextId = 0;
const waiting = new Map<number, (answer: MetricsAnswer) => void>();
let listening = false;

/** Worker: the whole cluster's exposition text, from the primary. */
export function askPrimaryForMetrics(): Promise<string> {
  if (!listening) {
    listening = true;
    process.on('message', (message: MetricsAnswer) => {
      if (message?.type === ANSWER) waiting.get(message.id)?.(message);
    });
  }
  const id = nextId++;
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      waiting.delete(id);
      reject(new Error(`the primary did not answer with metrics within ${ANSWER_TIMEOUT_MS} ms`));
    }, ANSWER_TIMEOUT_MS);
    waiting.set(id, ({ text, error }) => {
      clearTimeout(timer);
      waiting.delete(id);
      if (text !== undefined) resolve(text);
      else reject(new Error(`cluster metrics: ${error}`));
    });
    process.send!({ type: REQUEST, id } satisfies MetricsRequest);
  });
}

/**
 * Primary: answers the workers' requests. `counting` counts `ota_devices` from the registry's
 * database; stop() ends it.
 */
export function answerWorkersMetrics(counting: Counting): { stop(): Promise<void> } {
  const aggregator = new AggregatorRegistry();
  const devices = new UpdateStateCounter(counting);
  const own = new Registry();
  deviceStateGauge(devices, own);
  const text = async () => (await aggregator.clusterMetrics()) + (await own.metrics());
  const onMessage = (worker: Worker, message: MetricsRequest) => {
    if (message?.type !== REQUEST) return;
    const reply = (answer: Omit<MetricsAnswer, 'type' | 'id'>) => {
      if (worker.isConnected()) worker.send({ type: ANSWER, id: message.id, ...answer });
    };
    text().then(
      (exposition) => reply({ text: exposition }),
      (err: Error) => reply({ error: err.message }),
    );
  };
  cluster.on('message', onMessage);
  return {
    stop: () => {
      cluster.off('message', onMessage);
      return counting.stop();
    },
  };
}
