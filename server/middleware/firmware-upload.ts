import multer from '@koa/multer';
import type { Context, Next } from 'koa';
import fs from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HttpError, Messages, badRequest, payloadTooLarge } from '../errors.js';
import { logError } from '../log.js';
import { FirmwareInspector, type FirmwareFacts } from '../../contract/firmware-inspector.js';
import { PRIVATE_FILE } from '../storage/file-modes.js';
import type { FirmwareStore } from '../storage/firmware-store.js';
import { fsyncFile } from '../storage/local-files/firmware-files.js';

/** What the upload middleware leaves in ctx.state.firmware. */
export interface UploadedFile extends FirmwareFacts {
  tempPath: string;
}

/** Requests being parsed, and how to tell their middleware that the file went over the limit. */
const overLimit = new WeakMap<IncomingMessage, () => void>();

/** Room for the form's other parts (at most 20 fields of 4 KiB) and the multipart framing. */
const FORM_ALLOWANCE = 256 * 1024;

/**
 * A multer storage engine that streams the file into tmp/ while hashing (SHA-256, MD5),
 * validating it as an ESP image and looking for OTA client marks in the same pass: the file is
 * never held in memory, and is fsynced before the request goes on, so a later rename publishes
 * complete bytes. A valid image is then staged in the firmware store (S3: sent to the object
 * named by its SHA-256) before the request goes on; nothing names it yet.
 */
class HashingTempStorage implements multer.StorageEngine {
  constructor(private readonly files: FirmwareStore) {}

  _handleFile(
    req: IncomingMessage,
    file: multer.File,
    callback: (error?: Error | null, info?: multer.File) => void,
  ): void {
    const tempPath = this.files.newTempPath();
    const inspector = new FirmwareInspector();
    const inspect = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        inspector.update(chunk);
        done(null, chunk);
      },
    });
    const { stream } = file as multer.File & { stream: Readable };
    // Past the size limit: the middleware answers 413 now (multer would read the whole body
    // first), and the pipeline below fails, which removes the temporary file.
    stream.once('limit', () => {
      overLimit.get(req)?.();
      stream.destroy(new Error('file over the size limit'));
    });
    pipeline(stream, inspect, fs.createWriteStream(tempPath, { flags: 'wx', mode: PRIVATE_FILE }))
      .then(async (): Promise<UploadedFile> => {
        fsyncFile(tempPath);
        const upload = { tempPath, ...inspector.finish() };
        if (!('error' in upload.image))
          await this.files.stage(tempPath, upload.sha256, upload.size);
        return upload;
      })
      .then(
        (upload) => {
          callback(null, { path: tempPath, size: upload.size, upload } as unknown as multer.File);
        },
        (err: Error) => {
          fs.rm(tempPath, { force: true }, () => callback(err));
        },
      );
  }

  _removeFile(_req: IncomingMessage, file: multer.File, callback: (error: Error) => void): void {
    if (!file.path) return callback(null as unknown as Error);
    fs.rm(file.path, { force: true }, (err) => callback(err as Error));
  }
}

const MULTER_ERRORS: Record<string, (limit: number) => HttpError> = {
  LIMIT_FILE_SIZE: (limit) => payloadTooLarge(Messages.fileTooLarge(limit)),
  LIMIT_UNEXPECTED_FILE: () => badRequest(Messages.unexpectedFile),
  LIMIT_FILE_COUNT: () => badRequest(Messages.unexpectedFile),
  LIMIT_PART_COUNT: () => badRequest(Messages.malformedMultipart),
  LIMIT_FIELD_COUNT: () => badRequest(Messages.tooManyFields),
  LIMIT_FIELD_KEY: () => badRequest(Messages.fieldNameTooLong),
  LIMIT_FIELD_VALUE: () => badRequest(Messages.fieldValueTooLong),
};

/**
 * Parses a multipart upload with one file in the field `firmware`. Afterwards
 * ctx.request.body holds the text fields and ctx.state.firmware the file (if any). When the
 * request ends the store settles the upload: the temporary file goes, unless it was committed
 * (renamed) first.
 */
export function firmwareUpload(files: FirmwareStore, maxUploadBytes: number) {
  const parse = multer({
    storage: new HashingTempStorage(files),
    limits: { fileSize: maxUploadBytes, files: 1, fields: 20, fieldSize: 4096, parts: 30 },
  }).fields([{ name: 'firmware', maxCount: 1 }]);

  const tooLarge = () => payloadTooLarge(Messages.fileTooLarge(maxUploadBytes));
  return async function firmwareUploadMiddleware(ctx: Context, next: Next): Promise<void> {
    // A declared length that cannot fit: refused before a byte of the body is read.
    if (Number(ctx.get('Content-Length')) > maxUploadBytes + FORM_ALLOWANCE) {
      closeAfterAnswer(ctx, maxUploadBytes);
      throw tooLarge();
    }
    let trip: () => void = () => undefined;
    const tripped = new Promise<never>((_resolve, reject) => {
      trip = () => reject(tooLarge());
    });
    overLimit.set(ctx.req, trip);
    try {
      await Promise.race([parse(ctx, async () => undefined), tripped]);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'LIMIT_FILE_SIZE' || (err instanceof HttpError && err.status === 413)) {
        closeAfterAnswer(ctx, maxUploadBytes);
      }
      const mapped = code ? MULTER_ERRORS[code] : undefined;
      if (mapped) throw mapped(maxUploadBytes);
      if (err instanceof HttpError) throw err;
      // busboy's parse errors are plain Errors without a code: "Unexpected end of form", ...
      if (
        err instanceof Error &&
        err.constructor === Error &&
        code === undefined &&
        !('errno' in err)
      ) {
        throw badRequest(`${Messages.malformedMultipart}: ${err.message}`);
      }
      throw uploadFailed(err);
    }
    const uploaded = (ctx.files as Record<string, Array<{ upload?: UploadedFile }>> | undefined)
      ?.firmware?.[0]?.upload;
    ctx.state.firmware = uploaded;
    try {
      await next();
    } catch (err) {
      throw err instanceof HttpError ? err : uploadFailed(err);
    } finally {
      // The answer stands: the upload was committed, or refused, before this.
      if (uploaded) {
        await files
          .settle(uploaded.tempPath, uploaded.sha256, uploaded.size)
          .catch((err: unknown) => logError('settling an upload failed', err));
      }
    }
  };
}

/** After a `413`, a body of at most the limit plus this much is read to its end (see below). */
const LINGER = { bytes: 512 * 1024, ms: 2000 };

/**
 * Ends the connection once the answer has left, instead of reading (and throwing away) the rest
 * of a body that may be hundreds of megabytes or never end: a client still sending learns from
 * the `413` and the closed connection that the rest is not wanted.
 *
 * A body whose declared length is at most LINGER.bytes past what the form may hold (a firmware
 * a little too large: the common case) is read to its end and dropped before the socket closes
 * (within LINGER.ms), as nginx's lingering close does. Destroying the socket with the client's
 * bytes unread makes the kernel send a reset, and a reset can make the client drop the `413` it
 * had already received: Node 24's fetch reported "write EPIPE" instead of the message. A larger
 * or chunked body is cut at once, the answer reaching the client as far as its TCP stack allows.
 * Either way, never more than 1 MiB past the limit is read.
 */
function closeAfterAnswer(ctx: Context, maxUploadBytes: number): void {
  ctx.set('Connection', 'close');
  const { req } = ctx;
  const socket = req.socket;
  req.unpipe();
  const declared = Number(req.headers['content-length']);
  if (!(declared <= maxUploadBytes + FORM_ALLOWANCE + LINGER.bytes)) {
    ctx.res.once('finish', () => socket.destroy());
    return;
  }
  // Node's server ends a `Connection: close` answer with socket.destroySoon(): the end of the
  // answer, then destroy. This socket lingers instead, until the body has ended.
  socket.destroySoon = () => {
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
    };
    const timer = setTimeout(done, LINGER.ms);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
    socket.end();
    req.once('end', done);
    req.resume();
    if (req.readableEnded) done();
  };
}

/**
 * IoTaaP's answer when storing the upload fails (disk full, I/O error): a 500 whose `error` says
 * what kind of failure it was without paths or internals. The previous firmware is still served.
 */
function uploadFailed(err: unknown): HttpError {
  logError('upload failed', err);
  const code = (err as { code?: unknown }).code;
  const error =
    typeof code === 'string' && /^E[A-Z]+$/.test(code)
      ? Messages.uploadStorageError(code)
      : Messages.uploadInternalError;
  return new HttpError(500, Messages.uploadFailed, { error });
}
