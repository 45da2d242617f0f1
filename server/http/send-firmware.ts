import type { Context } from 'koa';
import { Messages } from '../errors.js';
import { logError } from '../log.js';
import { redactPath } from '../middleware/request-log.js';
import type { DeviceReport } from '../services/checkin-recorder.js';
import type { Download } from '../services/ota-service.js';

/**
 * The download response the Arduino updater accepts: it speaks HTTP/1.0, refuses a body
 * without Content-Length (so never chunked), checks x-MD5 when present, and does not follow
 * redirects. HEAD gets the same headers and no body. Device and group downloads share it.
 *
 * 304 (empty body) when the device already runs these bytes or this version (the updater's
 * "no update"), or when If-None-Match names the ETag. A single `Range` gets 206 (resuming a
 * download cut short on a weak link); several ranges get the whole file (200).
 */
export async function sendFirmware(
  ctx: Context,
  { ota, body }: Download,
  report: DeviceReport,
  idleTimeoutMs: number,
): Promise<void> {
  const etag = `"${ota.sha256}"`;
  ctx.set('ETag', etag);
  ctx.set('x-MD5', ota.md5);
  ctx.set('Cache-Control', 'no-cache');
  ctx.set('Accept-Ranges', 'bytes');

  // httpUpdate.updateSpiffs() asks for a file system image and skips the 0xE9 check: an
  // application image written there would wreck the device's files. Refuse rather than serve.
  if (report.mode !== undefined && report.mode !== 'sketch') {
    await release(body);
    ctx.status = 400;
    ctx.body = { message: Messages.onlySketchImages(report.mode) };
    return;
  }

  if (alreadyRuns(ota, report) || etagListMatches(ctx.get('If-None-Match'), etag)) {
    await release(body);
    ctx.status = 304;
    return;
  }

  const ifRange = ctx.get('If-Range');
  // If-Range with anything but our ETag (an older ETag, or a date: we send no Last-Modified) means "send it all".
  const range = ifRange === '' || ifRange === etag ? parseRange(ctx.get('Range'), ota.size) : null;
  if (range === 'unsatisfiable') {
    await release(body);
    ctx.status = 416;
    ctx.set('Content-Range', `bytes */${ota.size}`);
    ctx.body = { message: Messages.rangeNotSatisfiable(ota.size) };
    return;
  }

  ctx.status = range ? 206 : 200;
  ctx.set('Content-Disposition', 'attachment; filename="firmware.bin"');
  ctx.type = 'application/octet-stream';
  if (range) ctx.set('Content-Range', `bytes ${range.start}-${range.end}/${ota.size}`);
  if (ctx.method === 'HEAD') {
    await release(body);
  } else {
    closeWhenStalled(ctx, idleTimeoutMs, ota.size);
    ctx.body = Buffer.isBuffer(body)
      ? range
        ? body.subarray(range.start, range.end + 1)
        : body
      : body.createReadStream(range ?? {});
  }
  // After the body: Koa drops Content-Length when a stream body is assigned.
  ctx.length = range ? range.end - range.start + 1 : ota.size;
}

/**
 * The Arduino updater's "no update" (it answers 304 with HTTP_UPDATE_NO_UPDATES): the version
 * the sketch passed is the one served (exact string, as devices compare), or the MD5 of the
 * running sketch is that of the served file (any case): never re-flash the bytes a device runs.
 */
function alreadyRuns(ota: Download['ota'], report: DeviceReport): boolean {
  return report.version === ota.version || report.md5 === ota.md5.toLowerCase();
}

/** If-None-Match: `*` or a list of (possibly weak) ETags; weak comparison, as RFC 9110 asks. */
function etagListMatches(header: string, etag: string): boolean {
  if (header === '') return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

/**
 * One `bytes=` range, clamped to the file; null when there is none, it is malformed or there
 * are several (all of which get the whole file), 'unsatisfiable' when it starts past the end.
 */
function parseRange(
  header: string,
  size: number,
): { start: number; end: number } | null | 'unsatisfiable' {
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match) return null;
  const [, first, last] = match;
  if (first === '' && last === '') return null;
  if (first === '') {
    // Suffix range: the last N bytes.
    const length = Number(last);
    if (length === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return null;
  if (start >= size) return 'unsatisfiable';
  const end = last === '' ? size - 1 : Number(last);
  return { start, end: Math.min(end, size - 1) };
}

/** Closes the file behind a body that will not be streamed (a Buffer needs nothing). */
async function release(body: Download['body']): Promise<void> {
  if (!Buffer.isBuffer(body)) await body.close();
}

/**
 * A device that stops reading would hold its connection (and the body's buffer) forever. The
 * socket's inactivity timer runs only while nothing moves: every write the client's reading
 * lets through restarts it, so a slow download that keeps moving is never cut. Once the body
 * has been handed over, Node's keep-alive timeout takes over the same timer.
 */
function closeWhenStalled(ctx: Context, idleTimeoutMs: number, size: number): void {
  const { res, socket } = ctx;
  res.setTimeout(idleTimeoutMs, () => {
    logError(
      `download made no progress for ${idleTimeoutMs / 1000} s, connection closed: ` +
        `${ctx.method} ${redactPath(ctx.originalUrl)} (${size} bytes)`,
    );
    socket.destroy();
  });
}
