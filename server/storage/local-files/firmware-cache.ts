/**
 * The firmware images devices are downloading right now, in memory: during a release the whole
 * fleet asks for the same few files, and answering from a Buffer saves the file → buffer copy of
 * every download (most of a download's CPU; nginx avoids it with sendfile). Keyed by SHA-256, so
 * an entry is never stale: the same key always means the same bytes. Bounded in bytes, least
 * recently used out first; concurrent first requests share one read.
 */
export class FirmwareCache {
  private readonly entries = new Map<string, Buffer>();
  private readonly loading = new Map<string, Promise<Buffer>>();
  private bytes = 0;

  constructor(
    /** All entries together stay under this. */
    readonly maxBytes: number,
    /** Larger files are streamed from disk, never held. */
    readonly maxEntryBytes: number,
  ) {}

  /** Whether a file of this size is ever cached. */
  accepts(size: number): boolean {
    return size <= this.maxEntryBytes && size <= this.maxBytes;
  }

  /** The cached bytes, or `load()`'s (shared with whoever asks for the same key meanwhile). */
  async get(sha256: string, load: () => Promise<Buffer>): Promise<Buffer> {
    const hit = this.entries.get(sha256);
    if (hit) {
      // Most recently used last.
      this.entries.delete(sha256);
      this.entries.set(sha256, hit);
      return hit;
    }
    let pending = this.loading.get(sha256);
    if (!pending) {
      pending = load().finally(() => this.loading.delete(sha256));
      this.loading.set(sha256, pending);
      const bytes = await pending;
      this.add(sha256, bytes);
      return bytes;
    }
    return pending;
  }

  private add(sha256: string, bytes: Buffer): void {
    if (!this.accepts(bytes.length) || this.entries.has(sha256)) return;
    for (const [key, old] of this.entries) {
      if (this.bytes + bytes.length <= this.maxBytes) break;
      this.entries.delete(key);
      this.bytes -= old.length;
    }
    this.entries.set(sha256, bytes);
    this.bytes += bytes.length;
  }
}
