import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** A file part, read from disk while it is sent. */
export interface FilePart {
  field: string;
  filename: string;
  path: string;
  /** Its size in bytes, known beforehand so the request has an exact Content-Length. */
  size: number;
}

/**
 * A `multipart/form-data` body that streams its file from disk instead of holding it in
 * memory, with the exact length known up front: the registry (and proxies in front of it)
 * can refuse an oversized upload from the header alone. `stream()` can be called again for
 * each retry.
 */
export class MultipartBody {
  readonly boundary: string;
  readonly contentType: string;
  readonly length: number;
  private readonly head: Buffer;
  private readonly tail: Buffer;

  constructor(
    fields: ReadonlyArray<readonly [string, string]>,
    private readonly file: FilePart,
    boundary: string = `----ota-deploy-${randomBytes(12).toString('hex')}`,
  ) {
    this.boundary = boundary;
    this.contentType = `multipart/form-data; boundary=${boundary}`;
    const parts = fields.map(
      ([name, value]) =>
        `--${boundary}\r\nContent-Disposition: form-data; name="${quote(name)}"\r\n\r\n${value}\r\n`,
    );
    parts.push(
      `--${boundary}\r\nContent-Disposition: form-data; name="${quote(file.field)}"; filename="${quote(file.filename)}"\r\n` +
        'Content-Type: application/octet-stream\r\n\r\n',
    );
    this.head = Buffer.from(parts.join(''), 'utf8');
    this.tail = Buffer.from(`\r\n--${boundary}--\r\n`, 'utf8');
    this.length = this.head.length + file.size + this.tail.length;
  }

  async *stream(): AsyncGenerator<Uint8Array> {
    yield this.head;
    let sent = 0;
    for await (const chunk of createReadStream(this.file.path)) {
      const bytes = chunk as Buffer;
      sent += bytes.length;
      yield bytes;
    }
    if (sent !== this.file.size) {
      // The declared Content-Length would be a lie; better to fail than upload a torn image.
      throw new Error(
        `${this.file.path} changed while it was uploaded (${this.file.size} bytes expected, ${sent} read).`,
      );
    }
    yield this.tail;
  }
}

/** Field names and file names are ours, but keep a quote or newline from breaking the header. */
function quote(value: string): string {
  return value.replace(/["\r\n]/g, (c) => encodeURIComponent(c));
}
