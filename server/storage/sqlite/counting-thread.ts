import { Worker } from 'node:worker_threads';
import type { CountingQuestion, CountingThreadData } from './counting-worker.js';

/** The thread's code: see counting-worker.js. */
const THREAD = new URL('./counting-worker.js', import.meta.url);

export interface CountingThreadOptions {
  /** The thread ends after this long without a question (a registry nobody asks keeps none). */
  idleMs?: number;
}

type Pending = {
  question: Omit<CountingQuestion, 'id'>;
  resolve(rows: unknown[]): void;
  reject(err: Error): void;
};
type Answer = { id: number; rows?: unknown[]; error?: string };

/**
 * Runs the queries that read every device row (the `ota_devices` counts, the dashboard's fleet
 * summary: 100-300 ms of SQLite each at 100,000 devices, during which the server's thread could
 * answer no poll) in a worker thread, with its own connection to the same file. WAL: its reads
 * never block the server's writes, nor its reads; each question is a read transaction started
 * when the thread takes it, so it sees everything committed before it was asked. Questions
 * wait their turn in the one thread; the thread starts at the first and ends when idle.
 */
export class CountingThread {
  private thread: { worker: Worker; exited: Promise<void> } | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stopped = false;
  private readonly idleMs: number;

  constructor(
    private readonly dbFile: string,
    { idleMs = 120_000 }: CountingThreadOptions = {},
  ) {
    this.idleMs = idleMs;
  }

  /** The rows of `sql` (a read-only statement) with `params`, read in the thread. */
  all<Row>(sql: string, params?: Record<string, unknown>): Promise<Row[]> {
    this.stopped = false;
    return new Promise<unknown[]>((resolve, reject) =>
      this.send({ question: { sql, params }, resolve, reject }),
    ) as Promise<Row[]>;
  }

  /** Whether the thread is running now. */
  get threadRunning(): boolean {
    return this.thread !== undefined;
  }

  /** Ends the thread, if one runs; questions still waiting are refused. */
  async stop(): Promise<void> {
    this.stopped = true;
    const running = this.thread;
    if (!running) return;
    running.worker.postMessage('stop');
    await running.exited;
  }

  private send(pending: Pending): void {
    const worker = (this.thread ??= this.startThread()).worker;
    const id = this.nextId++;
    this.pending.set(id, pending);
    worker.postMessage({ id, ...pending.question } satisfies CountingQuestion);
  }

  private startThread(): { worker: Worker; exited: Promise<void> } {
    const workerData: CountingThreadData = { file: this.dbFile, idleMs: this.idleMs };
    const worker = new Worker(THREAD, { workerData });
    worker.on('message', ({ id, rows, error }: Answer) => {
      const pending = this.pending.get(id);
      this.pending.delete(id);
      if (!pending) return;
      if (rows) pending.resolve(rows);
      else pending.reject(new Error(`counting devices: ${error}`));
    });
    worker.once('error', (err) => this.refuseAll(`counting devices: ${err.message}`));
    const exited = new Promise<void>((resolve) =>
      worker.once('exit', () => {
        this.thread = undefined;
        // Still waiting: the questions crossed the thread's idle end. Ask a new thread once.
        const waiting = [...this.pending.values()];
        this.pending.clear();
        if (this.stopped) {
          for (const pending of waiting) pending.reject(new Error('counting devices: stopped'));
        } else {
          for (const pending of waiting) this.send(pending);
        }
        resolve();
      }),
    );
    return { worker, exited };
  }

  private refuseAll(message: string): void {
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const pending of waiting) pending.reject(new Error(message));
  }
}
