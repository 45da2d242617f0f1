import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/** Failed device requests (`404` on `latest` or `download`) counted per client address. */
export const DEVICE_FAILURE_WINDOW_MS = 60_000;
/** The window is counted in this many slices: a sliding count to within one slice (10 s). */
const SLICES = 6;
const SLICE_MS = DEVICE_FAILURE_WINDOW_MS / SLICES;
/**
 * How long a `429` waits before it leaves. A flood that waits for each answer before it sends the
 * next request (as any HTTP/1.1 client on keep-alive connections does) is slowed to one request
 * a second per connection, instead of being answered as fast as it can ask.
 */
export const REFUSAL_DELAY_MS = 1000;
/** Addresses tracked at once; past this the stalest is forgotten (about 100 bytes each). */
const MAX_ADDRESSES = 10_000;

/** `latest` and `download` of a device or a group, the way the router matches them. */
export const DEVICE_PATH = /^\/+v1\/+ota\/+(?:device|group)\/+(?:latest|download)\//i;

interface Entry {
  /** The slice (time / SLICE_MS) counts[0] belongs to; counts[i] is slice `first + i`. */
  first: number;
  counts: Uint32Array;
}

/**
 * A flood of wrong ids or tokens costs the registry a database read per request, and real
 * devices pay for it in latency. This counts such failures per client address in memory (a
 * sliding window of one minute, in 10 s slices) and, once an address is over the limit, turns
 * its device requests away with `429` before any lookup, until its count drops under the limit.
 *
 * Only failures count: a device with its right id and token is never counted, so any number of
 * healthy devices behind one NAT are never limited. In memory and per process on purpose: it is
 * a guard against floods, not an account of guesses (a guess at a 96-bit id or a token is
 * hopeless anyway), and it must cost nothing on the poll path. With `--workers N` each process
 * counts its own share.
 */
export class DeviceFailureLimit {
  private readonly entries = new Map<string, Entry>();

  /** `limit`: failures per address within the window; 0 turns the limit off. */
  constructor(readonly limit: number) {}

  /**
   * Seconds until this address may be answered again (for `Retry-After`), or 0 when it is not
   * over the limit. Called before the lookup, on every device request: one map read.
   */
  retryAfter(address: string, now: number = Date.now()): number {
    if (this.limit === 0 || this.entries.size === 0) return 0;
    const entry = this.entries.get(address);
    if (!entry) return 0;
    const slice = Math.floor(now / SLICE_MS);
    let total = live(entry, slice);
    if (total < this.limit) return 0;
    // The oldest slices leave the window first: when has enough of the count left?
    for (let i = 0; i < SLICES; i++) {
      const at = entry.first + i;
      if (at <= slice - SLICES) continue;
      total -= entry.counts[i];
      if (total < this.limit) {
        return Math.max(1, Math.ceil(((at + SLICES) * SLICE_MS - now) / 1000));
      }
    }
    return Math.ceil(DEVICE_FAILURE_WINDOW_MS / 1000);
  }

  /** One failed request (unknown id, wrong token) from this address. */
  failed(address: string, now: number = Date.now()): void {
    if (this.limit === 0) return;
    const slice = Math.floor(now / SLICE_MS);
    let entry = this.entries.get(address);
    if (!entry) {
      if (this.entries.size >= MAX_ADDRESSES) this.forgetStalest(slice);
      entry = { first: slice, counts: new Uint32Array(SLICES) };
      this.entries.set(address, entry);
    }
    advance(entry, slice);
    entry.counts[slice - entry.first]++;
  }

  /** True while no address is counted: the poll path skips working out the address. */
  get idle(): boolean {
    return this.limit === 0 || this.entries.size === 0;
  }

  /** Addresses counted now (tests, and the bound on memory). */
  get size(): number {
    return this.entries.size;
  }

  /** Drops entries whose window has passed; if none has, the one counted first. */
  private forgetStalest(slice: number): void {
    for (const [address, entry] of this.entries) {
      if (entry.first + SLICES <= slice - SLICES + 1) this.entries.delete(address);
    }
    if (this.entries.size >= MAX_ADDRESSES) {
      this.entries.delete(this.entries.keys().next().value as string);
    }
  }
}

/** Moves the entry's slices so that `slice` is its last one, dropping what left the window. */
function advance(entry: Entry, slice: number): void {
  const shift = slice - (entry.first + SLICES - 1);
  if (shift <= 0) return;
  if (shift >= SLICES) entry.counts.fill(0);
  else {
    entry.counts.copyWithin(0, shift);
    entry.counts.fill(0, SLICES - shift);
  }
  entry.first += shift;
}

/** The entry's failures still inside the window that ends with `slice`. */
function live(entry: Entry, slice: number): number {
  let total = 0;
  for (let i = 0; i < SLICES; i++) {
    const at = entry.first + i;
    if (at > slice - SLICES && at <= slice) total += entry.counts[i];
  }
  return total;
}

/**
 * The client's address as Koa's `ctx.ip` has it (app.ts): the socket's, or with `--trust-proxy`
 * the last `X-Forwarded-For` entry (the one the proxy added). IPv6 addresses count by their /64,
 * which one host usually holds whole; IPv4 inside IPv6 (`::ffff:1.2.3.4`) as IPv4.
 */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  let address = req.socket.remoteAddress ?? '';
  if (trustProxy) {
    const forwarded = req.headers['x-forwarded-for'];
    const last = (Array.isArray(forwarded) ? forwarded.join(',') : (forwarded ?? ''))
      .split(',')
      .at(-1)
      ?.trim();
    if (last) address = last;
  }
  return addressKey(address);
}

/** The key an address is counted under (see clientAddress). */
export function addressKey(address: string): string {
  if (address.startsWith('::ffff:') && isIP(address.slice(7)) === 4) return address.slice(7);
  if (isIP(address) !== 6) return address;
  const [head, tail = ''] = address.split('::');
  const front = head === '' ? [] : head.split(':');
  const back = tail === '' ? [] : tail.split(':');
  const groups = address.includes('::')
    ? [...front, ...Array<string>(8 - front.length - back.length).fill('0'), ...back]
    : front;
  return `${groups
    .slice(0, 4)
    .map((group) => parseInt(group, 16).toString(16))
    .join(':')}::/64`;
}
