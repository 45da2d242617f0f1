import cluster from 'node:cluster';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import type { Counting } from '../storage/counting.js';
import { UpdateStateCounter } from '../storage/sqlite/update-state-counts.js';
import { askPrimaryForMetrics, shareWithPrimary } from './cluster-metrics.js';
import { deviceStateGauge } from './device-state-gauge.js';

/**
 * What an upload came to: `deployed` (201), `unchanged` (200, the same bytes again),
 * `rejected` (4xx: invalid, too large, wrong token, a conflict), `failed` (5xx).
 */
export type UploadResult = 'deployed' | 'unchanged' | 'rejected' | 'failed';
const UPLOAD_RESULTS: readonly UploadResult[] = ['deployed', 'unchanged', 'rejected', 'failed'];

let processMetrics: Registry | undefined;

/**
 * Node's process metrics (CPU, memory, event loop lag, GC, handles), once per process: they
 * describe the process, whichever registry context serves them. Made at the first scrape (or
 * when a cluster worker starts), so a registry nobody scrapes runs none of their observers.
 */
function processRegistry(): Registry {
  if (!processMetrics) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics });
  }
  return processMetrics;
}

/**
 * The registry's Prometheus metrics. Counting is cheap on purpose: a poll adds one increment of
 * a label-free counter (6 ns; no label lookup, no allocation). `ota_devices` is counted when
 * scraped, by `UpdateStateCounter`, in the CountingThread.
 *
 * In a worker of `serve --workers N` the same counters count that worker's requests, and
 * `/metrics` answers what the primary adds up over every worker (cluster-metrics.ts), so any
 * worker's answer covers the whole registry.
 */
export class RegistryMetrics {
  readonly contentType = Registry.PROMETHEUS_CONTENT_TYPE;
  private readonly registry = new Registry();
  private readonly polls: Counter;
  private readonly downloads: Counter;
  private readonly downloadBytes: Counter;
  private readonly uploads: Counter<'result'>;
  private readonly clustered = cluster.isWorker;
  /** Behind `ota_devices`; in a worker of a cluster the primary counts them instead. */
  private readonly devices: UpdateStateCounter | null;

  /** `counting`: the thread that counts `ota_devices` from the registry's SQLite file. */
  constructor(counting: Counting) {
    this.devices = this.clustered ? null : new UpdateStateCounter(counting);
    const registers = [this.registry];
    this.polls = new Counter({
      name: 'ota_polls_total',
      help: 'Update checks (GET/HEAD latest, device and group URLs), whatever they answered.',
      registers,
    });
    this.downloads = new Counter({
      name: 'ota_downloads_total',
      help: 'Firmware downloads answered with the firmware (200, or 206 for a range); not HEAD, 304 or refusals.',
      registers,
    });
    this.downloadBytes = new Counter({
      name: 'ota_download_bytes_total',
      help: 'Firmware bytes those downloads were answered with (a connection cut short carried less).',
      registers,
    });
    this.uploads = new Counter({
      name: 'ota_uploads_total',
      help: 'Authenticated firmware uploads (device and group) by result: deployed (201), unchanged (200), rejected (4xx), failed (5xx).',
      labelNames: ['result'],
      registers,
    });
    // Every result from the start, so that rate() sees the first one.
    for (const result of UPLOAD_RESULTS) this.uploads.inc({ result }, 0);
    if (this.devices) deviceStateGauge(this.devices, this.registry);
    if (this.clustered) shareWithPrimary([processRegistry(), this.registry]);
  }

  countPoll(): void {
    this.polls.inc();
  }

  /**
   * A firmware body of `bytes` is being sent. Counted when it starts: whether a device got all
   * of it cannot be seen from here (the kernel takes megabytes of a body before the device has
   * read any), and the device says so itself, by reporting the new version (`ota_devices`).
   */
  countDownload(bytes: number): void {
    this.downloads.inc();
    this.downloadBytes.inc(bytes);
  }

  countUpload(result: UploadResult): void {
    this.uploads.inc({ result });
  }

  /** The exposition text: this process's, or in a worker the whole cluster's. */
  async text(): Promise<string> {
    if (this.clustered) return askPrimaryForMetrics();
    return (await processRegistry().metrics()) + (await this.registry.metrics());
  }
}
