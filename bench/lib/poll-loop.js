// @ts-check
import http from 'node:http';

/**
 * One keep-alive client of a registry at `url`, as a device fleet's polls look from one
 * connection: `timed` requests a path (200 expected) and resolves with its milliseconds;
 * `poll` asks `latest` for `ids` in turn until `until()` and sums up the latencies.
 *
 * @param {string} url
 * @param {string[]} ids
 */
export function pollClient(url, ids) {
  const agent = new http.Agent({ keepAlive: true });
  /** @param {string} pathname @param {Record<string, string>} [headers] @returns {Promise<number>} */
  const timed = (pathname, headers = {}) =>
    new Promise((resolve, reject) => {
      const started = process.hrtime.bigint();
      http
        .get(`${url}${pathname}`, { agent, headers }, (res) => {
          if (res.statusCode !== 200) reject(new Error(`${pathname}: ${res.statusCode}`));
          res.resume();
          res.on('end', () => resolve(Number(process.hrtime.bigint() - started) / 1e6));
        })
        .on('error', reject);
    });
  /** @param {() => boolean} until */
  const poll = async (until) => {
    /** @type {number[]} */
    const latencies = [];
    while (!until()) {
      latencies.push(await timed(`/v1/ota/device/latest/${ids[latencies.length % ids.length]}`));
    }
    latencies.sort((a, b) => a - b);
    const p = (/** @type {number} */ q) => quantile(latencies, q);
    return `${latencies.length} polls, p50 ${p(0.5)} ms, p99 ${p(0.99)} ms, max ${p(1)} ms`;
  };
  return { timed, poll, close: () => agent.destroy() };
}

/** A stop condition for `poll`: true once `ms` have passed. @param {number} ms */
export function forMs(ms) {
  const end = Date.now() + ms;
  return () => Date.now() >= end;
}

/** @param {number[]} sorted @param {number} q */
export const quantile = (sorted, q) => sorted[Math.floor(q * (sorted.length - 1))].toFixed(2);
