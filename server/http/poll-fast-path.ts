import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppContext } from '../context.js';
import { HttpError, Messages } from '../errors.js';
import { logError, logRequest } from '../log.js';
import { redactPath } from '../middleware/request-log.js';
import type { TargetKind } from '../storage/sqlite/otas.js';

const LATEST = /^\/v1\/ota\/(device|group)\/latest\/([^/?#]+)(?:\?.*)?$/;

/**
 * `GET /v1/ota/{device|group}/latest/{id}`, the request every device makes every poll, answered
 * without Koa: the same service call and the same answers as routes/ota.ts, but without the
 * middleware chain, which cost more than half of each poll (npm run bench: raw Node answers
 * ~6x more of these than the Koa route on one core). Returns false for any other request,
 * which then goes to Koa. Keep the answers identical to the route's; tests run both.
 */
export function pollFastPath({
  ota,
  config,
  metrics,
}: AppContext): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const match = LATEST.exec(req.url ?? '');
    if (!match) return false;
    const started = process.hrtime.bigint();
    metrics.countPoll();
    let status = 200;
    let body: string;
    try {
      body = JSON.stringify({ ver: ota.latestVersion(decode(match[2]), match[1] as TargetKind) });
    } catch (err) {
      status = err instanceof HttpError ? err.status : 500;
      if (!(err instanceof HttpError)) logError(`error GET ${redactPath(req.url ?? '')}`, err);
      body = JSON.stringify({
        message: err instanceof HttpError ? err.message : Messages.internal,
      });
    }
    res.writeHead(status, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      // IoTaaP OS parses this into a 128-byte buffer: exactly {"ver":"..."}; never cached,
      // not even a 404 (the next poll after an upload must see it).
      'Cache-Control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
    if (config.logRequests) logRequest(req.method, redactPath(req.url ?? ''), status, started);
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
