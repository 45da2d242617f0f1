import type * as S3Sdk from '@aws-sdk/client-s3';
import type { HeadObjectCommandOutput, S3Client } from '@aws-sdk/client-s3';
import type * as LibStorage from '@aws-sdk/lib-storage';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FirmwareCache } from '../local-files/firmware-cache.js';
import { UploadSpool } from '../local-files/upload-spool.js';
import type { FirmwareBody, FirmwareSource, FirmwareStore } from '../firmware-store.js';

/** Where the bytes go: `s3://<bucket>/<prefix>`, and the store that holds the bucket. */
export interface S3Location {
  bucket: string;
  /** '' or ending in '/': objects are `<prefix>firmware/<sha256>`. */
  prefix: string;
  /** An S3-compatible store's URL (MinIO, Ceph, s3rver), addressed path-style; null: AWS. */
  endpoint: string | null;
  region: string;
}

export interface S3StoreOptions {
  /** Whether any kept version has these bytes: the sweep removes only objects none has. */
  isReferenced: (sha256: string) => boolean;
  /** An unreferenced object younger than this stays (an upload may be about to commit it). */
  graceMs?: number;
  /**
   * Runs `task` while no other process can commit a record (PostgreSQL: the writers' lock held
   * by the sweeping replica). The sweep's last look ("no record names it") and its removal run
   * inside it, so another replica's upload of the same bytes either committed before the look
   * (the object stays) or commits after the removal, and its `settle` then finds the object
   * gone and stores it again before answering. Without it (SQLite: one host), see docs/storage.md.
   */
  exclusive?: <T>(task: () => Promise<T>) => Promise<T>;
}

/**
 * The AWS SDK, loaded when the first S3 store is made: importing it takes about 300 ms, which
 * every start and every operator command would pay on the default engine otherwise.
 */
let sdk: { s3: typeof S3Sdk; storage: typeof LibStorage } | undefined;
function loadSdk(): NonNullable<typeof sdk> {
  const load = createRequire(import.meta.url);
  sdk ??= {
    s3: load('@aws-sdk/client-s3') as typeof S3Sdk,
    storage: load('@aws-sdk/lib-storage') as typeof LibStorage,
  };
  return sdk;
}

/** The same as the local engine's: up to 64 MiB of hot images in memory, none over 16 MiB. */
const CACHE = { maxBytes: 64 * 1024 * 1024, maxEntryBytes: 16 * 1024 * 1024 };
/** S3's smallest part: an 8 MiB upload is two parts. */
const PART_SIZE = 5 * 1024 * 1024;
/** Parts of one upload in flight at once; each is a PART_SIZE buffer. */
const PARTS_IN_FLIGHT = 1;
/** Uploads sent to S3 at once per process: bounds the part buffers (docs/storage.md). */
const TRANSFERS = 2;
/** How long a sweep's removal may take (other replicas' commits wait for it). */
const REMOVE_TIMEOUT_MS = 10_000;
/** An upload's object is committed within seconds of being stored; an hour is a wide margin. */
const DEFAULT_GRACE_MS = 60 * 60 * 1000;

/**
 * Firmware in an S3-compatible bucket, one object per distinct image, named by its SHA-256
 * (`<prefix>firmware/<sha256>`): content-addressed, so an object never changes once written, a
 * cached copy is never stale on any replica, and the same image uploaded for many devices is
 * stored once. Records keep the same keys as on the local engine (otas.path); this engine
 * finds the bytes by the record's SHA-256.
 *
 * Uploads arrive in the data directory's tmp/ first (hashed and validated as they stream), and
 * are then sent from there (multipart, `@aws-sdk/lib-storage`) to their final object before any
 * record names it. Objects that no record names are removed by `sweep`, and only once older
 * than a grace period, so an upload in flight on another replica is never hurt.
 */
export class S3FirmwareStore implements FirmwareStore {
  readonly kind = 's3';
  readonly description: string;
  private readonly client: S3Client;
  private readonly spool: UploadSpool;
  private readonly cache = new FirmwareCache(CACHE.maxBytes, CACHE.maxEntryBytes);
  private readonly transfers = new Slots(TRANSFERS);
  /** Transfers in progress, by SHA-256. */
  private readonly staging = new Map<string, Promise<void>>();
  /** Removals by this process's sweep in progress, by SHA-256: an upload of them waits. */
  private readonly removing = new Map<string, Promise<void>>();
  private readonly graceMs: number;
  private readonly sdk = loadSdk();

  constructor(
    private readonly location: S3Location,
    dataDir: string,
    private readonly options: S3StoreOptions,
  ) {
    this.spool = new UploadSpool(dataDir);
    this.graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
    this.description = describeLocation(location);
    this.client = new this.sdk.s3.S3Client({
      region: location.region,
      ...(location.endpoint ? { endpoint: location.endpoint, forcePathStyle: true } : {}),
      // Checksums only where S3 requires them: stores that do not know the SDK's newer
      // aws-chunked framing (s3rver 3.7.1) would otherwise keep the framing as object bytes.
      // Uploads are checked by size after the transfer, downloads by the record's MD5 on the
      // device.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // Credentials: the SDK's standard chain (environment, profile, instance role), never logged.
    });
  }

  newTempPath(): string {
    return this.spool.newTempPath();
  }

  removeLeftoverTempFiles(): number {
    return this.spool.removeLeftoverTempFiles();
  }

  /**
   * Sends the spooled upload to its object, then checks the stored size. Uploads of the same
   * image at once (one build deployed to many devices) share one transfer.
   */
  async stage(tempPath: string, sha256: string, size: number): Promise<void> {
    let pending = this.staging.get(sha256);
    if (!pending) {
      pending = this.store(tempPath, sha256, size).finally(() => this.staging.delete(sha256));
      this.staging.set(sha256, pending);
    }
    await pending;
  }

  /**
   * The same bytes already stored, and recently enough that no sweep may remove them before the
   * commit, are left as they are. Otherwise they are sent (again): that renews the object's age,
   * so a sweep running now leaves it.
   */
  private async store(tempPath: string, sha256: string, size: number): Promise<void> {
    // This process's sweep is removing these bytes: look once it is done (then send them again).
    await this.removing.get(sha256);
    const existing = await this.head(sha256);
    const age = Date.now() - (existing?.LastModified?.getTime() ?? 0);
    if (existing?.ContentLength === size && age < this.graceMs / 2) return;
    await this.transfers
      .run(() => this.send(tempPath, sha256))
      .catch((err: unknown) => {
        throw asStorageError(err);
      });
    const stored = await this.head(sha256);
    if (stored?.ContentLength !== size) {
      throw storageError(
        `the object for ${sha256} holds ${stored?.ContentLength ?? 'no'} bytes, not ${size}`,
      );
    }
  }

  /** One upload to S3, from the spooled file, in parts (lib-storage aborts it when it fails). */
  private async send(tempPath: string, sha256: string): Promise<void> {
    await new this.sdk.storage.Upload({
      client: this.client,
      params: {
        Bucket: this.location.bucket,
        Key: this.objectKey(sha256),
        Body: fs.createReadStream(tempPath),
        ContentType: 'application/octet-stream',
      },
      partSize: PART_SIZE,
      queueSize: PARTS_IN_FLIGHT,
    }).done();
  }

  /** The object is already in place, named by its bytes: the record's commit is all it takes. */
  commit(_tempPath: string, _key: string): void {}

  /**
   * The request is over. Had a sweep removed the object between `stage` and the commit (its
   * bytes unreferenced, the object older than the grace period: only when the same image was
   * uploaded again while a sweep ran), it is stored again from the spooled file; then that goes.
   */
  async settle(tempPath: string, sha256: string, size: number): Promise<void> {
    try {
      if (fs.existsSync(tempPath) && !(await this.head(sha256))) {
        await this.stage(tempPath, sha256, size);
      }
    } finally {
      await this.spool.discard(tempPath);
    }
  }

  async body(_key: string, sha256: string, size: number): Promise<FirmwareBody> {
    if (this.cache.accepts(size)) return this.cache.get(sha256, () => this.read(sha256, size));
    if (!(await this.head(sha256))) throw missing(sha256);
    return new ObjectSource(this.client, this.location.bucket, this.objectKey(sha256));
  }

  /** Objects are shared between records: the sweep removes those no record names any more. */
  remove(_key: string): void {}

  /** As `remove`. */
  removeTarget(_kind: 'device' | 'group', _targetId: string): void {}

  close(): void {
    this.client.destroy();
  }

  /**
   * Removes the objects no kept version names that are older than the grace period; returns
   * how many. Each is looked at again just before it goes (age and references), so an upload
   * that stored the same bytes since the listing keeps them. Safe to run on several replicas
   * at once.
   */
  sweep(now = Date.now()): Promise<number> {
    return this.sweepObjects(now).catch((err: unknown) => {
      throw asStorageError(err);
    });
  }

  private async sweepObjects(now: number): Promise<number> {
    const prefix = `${this.location.prefix}firmware/`;
    const old = (date: Date | undefined) =>
      date !== undefined && now - date.getTime() >= this.graceMs;
    let removed = 0;
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new this.sdk.s3.ListObjectsV2Command({
          Bucket: this.location.bucket,
          Prefix: prefix,
          ContinuationToken: token,
        }),
      );
      for (const object of page.Contents ?? []) {
        const sha256 = object.Key?.slice(prefix.length) ?? '';
        if (!/^[0-9a-f]{64}$/.test(sha256) || !old(object.LastModified)) continue;
        if (this.options.isReferenced(sha256)) continue;
        const now = await this.head(sha256);
        // An upload of these bytes on this process is on its way to a commit: leave them.
        if (!now || !old(now.LastModified) || this.staging.has(sha256)) continue;
        // Marked before the removal starts: an upload that begins from now on waits for it.
        let done = () => {};
        this.removing.set(sha256, new Promise<void>((resolve) => (done = resolve)));
        try {
          if (await this.removeUnreferenced(sha256)) removed++;
        } finally {
          this.removing.delete(sha256);
          done();
        }
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return removed;
  }

  /**
   * Removes the object if no record names it, the look and the removal together while no other
   * replica can commit (options.exclusive). The removal gives up after REMOVE_TIMEOUT_MS: the
   * other replicas' commits wait for it.
   */
  private async removeUnreferenced(sha256: string): Promise<boolean> {
    const exclusive = this.options.exclusive ?? ((task) => task());
    return exclusive(async () => {
      if (this.options.isReferenced(sha256)) return false;
      await this.client.send(
        new this.sdk.s3.DeleteObjectCommand({
          Bucket: this.location.bucket,
          Key: this.objectKey(sha256),
        }),
        { abortSignal: AbortSignal.timeout(REMOVE_TIMEOUT_MS) },
      );
      return true;
    });
  }

  private objectKey(sha256: string): string {
    return `${this.location.prefix}firmware/${sha256}`;
  }

  /** The object's metadata, or undefined when there is none. */
  private async head(sha256: string): Promise<HeadObjectCommandOutput | undefined> {
    try {
      return await this.client.send(
        new this.sdk.s3.HeadObjectCommand({
          Bucket: this.location.bucket,
          Key: this.objectKey(sha256),
        }),
      );
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw asStorageError(err);
    }
  }

  /** The whole object into one Buffer of the record's size (for the cache). */
  private async read(sha256: string, size: number): Promise<Buffer> {
    let answer;
    try {
      answer = await this.client.send(
        new this.sdk.s3.GetObjectCommand({
          Bucket: this.location.bucket,
          Key: this.objectKey(sha256),
        }),
      );
    } catch (err) {
      throw isNotFound(err) ? missing(sha256) : asStorageError(err);
    }
    const bytes = Buffer.allocUnsafe(size);
    let filled = 0;
    for await (const chunk of answer.Body as Readable) {
      const part = chunk as Buffer;
      if (filled + part.length > size) break;
      part.copy(bytes, filled);
      filled += part.length;
    }
    if (filled !== size || answer.ContentLength !== size) {
      (answer.Body as Readable).destroy();
      throw storageError(`the object for ${sha256} does not hold the record's ${size} bytes`);
    }
    return bytes;
  }
}

/** An object too large for the cache, streamed from S3 on demand (one GET per response). */
class ObjectSource implements FirmwareSource {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly key: string,
  ) {}

  createReadStream(range: { start?: number; end?: number } = {}): Readable {
    const out = new PassThrough();
    const abort = new AbortController();
    // The client went away: stop reading from S3 too.
    out.once('close', () => abort.abort());
    const { start, end } = range;
    const bytes = start !== undefined ? `bytes=${start}-${end ?? ''}` : undefined;
    const { GetObjectCommand } = loadSdk().s3;
    this.client
      .send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key, Range: bytes }), {
        abortSignal: abort.signal,
      })
      .then((answer) => pipeline(answer.Body as Readable, out))
      .catch((err: unknown) => out.destroy(asStorageError(err)));
    return out;
  }

  async close(): Promise<void> {}
}

/** `s3://bucket/prefix`, as the operator wrote it (for the start-up line and messages). */
export function describeLocation({ bucket, prefix }: S3Location): string {
  return `s3://${bucket}/${prefix}`.replace(/\/$/, '');
}

/** At most `size` tasks at once; the others wait their turn in order. */
class Slots {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly size: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

function isNotFound(err: unknown): boolean {
  const name = (err as { name?: string }).name;
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return name === 'NoSuchKey' || name === 'NotFound' || status === 404;
}

/** What every engine throws for bytes that are not there (ota-service looks again once). */
function missing(sha256: string): Error {
  return Object.assign(new Error(`no object for the firmware ${sha256}`), { code: 'ENOENT' });
}

/**
 * A failure as the API reports it (a 500 "storage error (<code>)") and the log shows it: a
 * system error keeps its code (ECONNREFUSED); S3's answers (NoSuchBucket, AccessDenied) become
 * EOBJECTSTORE with their name and message only, so that nothing else the SDK attached to the
 * error (request and response metadata) reaches the log.
 */
function asStorageError(err: unknown): Error {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return err as Error;
  const { name, message } = err as Error;
  return storageError(`S3 ${name}: ${message}`);
}

/** A store that answered but not as it must: a 500 "storage error (EOBJECTSTORE)" on upload. */
function storageError(message: string): Error {
  return Object.assign(new Error(message), { code: 'EOBJECTSTORE' });
}
