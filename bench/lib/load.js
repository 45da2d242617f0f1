// @ts-check
import autocannon from 'autocannon';

/**
 * One autocannon run. Besides autocannon's own per-second figures it keeps every response
 * time, so percentiles autocannon does not report (p95) are exact.
 *
 * @param {{ url: string, connections: number, duration: number,
 *   requests: import('autocannon').Request[], headers?: Record<string, string>,
 *   timeout?: number }} options
 */
export async function drive({ url, connections, duration, requests, headers, timeout = 10 }) {
  /** @type {number[]} */
  const times = [];
  // Without a callback autocannon answers a promise that is also its event emitter; its types
  // give either, so say both.
  const instance =
    /** @type {Promise<import('autocannon').Result> & import('autocannon').Instance} */ (
      /** @type {unknown} */ (
        autocannon({
          url,
          connections,
          duration,
          requests,
          headers,
          timeout,
          setupClient: discardBodies,
        })
      )
    );
  instance.on('response', (_client, _status, _bytes, /** @type {number} */ ms) => times.push(ms));
  /** @type {Record<string, number>} */
  const errorKinds = {};
  instance.on('reqError', (/** @type {NodeJS.ErrnoException} */ err) => {
    const kind = err.code ?? err.message;
    errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
  });
  const result = await instance;
  times.sort((a, b) => a - b);
  const statuses = Object.fromEntries(
    Object.entries(result.statusCodeStats ?? {}).map(([code, { count }]) => [code, Number(count)]),
  );
  const unexpected = Object.entries(statuses)
    .filter(([code]) => !(code.startsWith('2') || code === '304'))
    .reduce((sum, [, count]) => sum + count, 0);
  return {
    requests: result.requests.total,
    reqPerSec: result.requests.average,
    bytesPerSec: result.throughput.average,
    mean: times.reduce((sum, ms) => sum + ms, 0) / times.length,
    p50: percentile(times, 0.5),
    p95: percentile(times, 0.95),
    p99: percentile(times, 0.99),
    max: times.at(-1) ?? NaN,
    errors: result.errors,
    timeouts: result.timeouts,
    /** What the errors were (ECONNRESET, ...), counted. */
    errorKinds,
    statuses,
    /** Answers other than 2xx and 304. */
    unexpected,
  };
}

/**
 * @param {number[]} sorted
 * @param {number} q
 */
function percentile(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

/**
 * A request whose path is drawn at random from `paths` each time (so lookups do not all hit
 * one row and one cache line).
 *
 * @param {string[]} paths
 * @param {Partial<import('autocannon').Request>} [extra]
 * @returns {import('autocannon').Request}
 */
export function randomPath(paths, extra = {}) {
  return {
    method: 'GET',
    ...extra,
    /** @param {import('autocannon').Request} request */
    setupRequest: (request) => ({
      ...request,
      path: paths[Math.floor(Math.random() * paths.length)],
    }),
  };
}

/**
 * autocannon appends every body chunk to a string (`req.body += chunk`, in
 * PipelinedRequestsQueue.addBody), decoding it as UTF-8. For firmware, random-looking bytes,
 * that decoding capped the client near 100 MB/s for the registry and nginx alike (69% of the
 * load generator's CPU; a file of one repeated ASCII byte went 5× faster), so downloads measured
 * the load generator. Nothing here reads bodies: drop them; byte counts and timings come from
 * the socket and the parser.
 *
 * @param {import('autocannon').Client} client
 */
function discardBodies(client) {
  // Not in autocannon's types: the queue of requests in flight on this client.
  /** @type {{ pipelinedRequests: { addBody(data: Buffer): void } }} */ (
    /** @type {unknown} */ (client)
  ).pipelinedRequests.addBody = () => {};
}
