import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppContext } from '../context.js';
import { HttpError, Messages } from '../errors.js';
import { logError, logRequest } from '../log.js';
import { targetMissing, tooManyDeviceFailures } from '../middleware/device-failures.js';
import { redactPath } from '../middleware/request-log.js';
import type { TargetKind } from '../storage/sqlite/otas.js';
import {
  DEVICE_PATH,
  REFUSAL_DELAY_MS,
  clientAddress,
  type DeviceFailureLimit,
} from './device-failure-limit.js';

const LATEST = /^\/v1\/ota\/(device|group)\/latest\/([^/?#]+)(?:\?.*)?$/;

/**
 * `GET /v1/ota/{device|group}/latest/{id}`, the request every device makes every poll, answered
 * without Koa: the same service call and the same answers as routes/ota.ts, but without the
 * middleware chain, which cost more than half of each poll (npm run bench: raw Node answers
 * ~6x more of these than the Koa route on one core). Returns false for any other request,
 * which then goes to Koa. Keep the answers identical to the route's; tests run both.
 *
 * It also keeps the device failure limit (http/device-failure-limit.ts) for what it answers, and
 * turns away downloads from an address over the limit before Koa sees them: a flood of wrong
 * tokens then costs a regular expression and a map read per request.
 */
export function pollFastPath(
  { ota, config, metrics }: AppContext,
  failures: DeviceFailureLimit,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const method = req.method;
    if (method !== 'GET' && method !== 'HEAD') return false;
    const url = req.url ?? '';
    const match = LATEST.exec(url);
    if (!match && (failures.idle || !DEVICE_PATH.test(url))) return false;
    const started = process.hrtime.bigint();
    // Worked out only when needed: while nobody is over the limit, a poll never looks.
    const address = () => clientAddress(req, config.trustProxy);
    const wait = failures.idle ? 0 : failures.retryAfter(address());
    if (!match && wait === 0) return false;
    let status = 200;
    let body = '';
    const headers: Record<string, string> = {};
    try {
      if (wait > 0 || !match) throw tooManyDeviceFailures(wait);
      metrics.countPoll();
      body = JSON.stringify({ ver: ota.latestVersion(decode(match[2]), match[1] as TargetKind) });
    } catch (err) {
      if (targetMissing(err)) failures.failed(address());
      if (err instanceof HttpError) Object.assign(headers, err.headers);
      status = err instanceof HttpError ? err.status : 500;
      if (!(err instanceof HttpError)) logError(`error GET ${redactPath(req.url ?? '')}`, err);
      body = JSON.stringify({
        message: err instanceof HttpError ? err.message : Messages.internal,
      });
    }
    const answer = () => {
      res.writeHead(status, {
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Length': Buffer.byteLength(body),
        // IoTaaP OS parses this into a 128-byte buffer: exactly {"ver":"..."}; never cached,
        // not even a 404 (the next poll after an upload must see it).
        'Cache-Control': 'no-store',
        ...headers,
      });
      res.end(method === 'HEAD' ? undefined : body);
      if (config.logRequests) logRequest(method, redactPath(req.url ?? ''), status, started);
    };
    if (wait > 0) setTimeout(answer, REFUSAL_DELAY_MS);
    else answer();
    return true;
  };
}

/** Path segments arrive percent-encoded; a malformed escape is simply not an id. */
function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
