// @ts-check
import { Buffer } from 'node:buffer';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * One request on a fresh connection; resolves with status and body. Used for readiness
 * checks and single probes, not for load (autocannon does that).
 *
 * @param {string} url
 * @param {{ method?: string, headers?: Record<string, string>, body?: Buffer, timeoutMs?: number }} [options]
 * @returns {Promise<{ status: number, body: Buffer }>}
 */
export function request(url, options = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: options.method ?? 'GET', headers: options.headers, agent: false },
      (res) => {
        /** @type {Buffer[]} */
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.setTimeout(options.timeoutMs ?? 30_000, () => req.destroy(new Error(`timeout: ${url}`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/**
 * Polls `url` until it answers 200; returns when it did. Gives up (throws) after `timeoutMs`,
 * or at once when `stillRunning()` says the server process has gone.
 *
 * @param {string} url
 * @param {{ timeoutMs?: number, stillRunning?: () => boolean }} [options]
 */
export async function waitForOk(url, { timeoutMs = 15_000, stillRunning = () => true } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!stillRunning()) throw new Error(`the server for ${url} exited before answering`);
    try {
      const { status } = await request(url, { timeoutMs: 1000 });
      if (status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
    await sleep(5);
  }
}
