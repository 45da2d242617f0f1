// @ts-check
import fs from 'node:fs';
import { clearInterval, setInterval } from 'node:timers';

const MIB = 1024 * 1024;

/**
 * VmRSS (resident now) and VmHWM (the peak since start or the last reset) in bytes, from
 * /proc/<pid>/status, summed over the process and its descendants (`serve --workers N` is a
 * primary and N workers; the sum of peaks bounds the peak of the sum). Undefined once the
 * process has gone.
 *
 * @param {number} pid
 * @returns {{ rss: number, hwm: number, processes: number } | undefined}
 */
export function readMemory(pid) {
  const own = readStatus(pid);
  if (!own) return undefined;
  const total = { ...own, processes: 1 };
  for (const child of descendants(pid)) {
    const memory = readStatus(child);
    if (!memory) continue;
    total.rss += memory.rss;
    total.hwm += memory.hwm;
    total.processes++;
  }
  return total;
}

/** @param {number} pid */
function readStatus(pid) {
  let status;
  try {
    status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kib = (/** @type {string} */ name) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS') * 1024, hwm: kib('VmHWM') * 1024 };
}

/** Every process below `pid`, from the parent ids in /proc/<n>/stat. */
/** @param {number} pid */
function descendants(pid) {
  const parents = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name may hold spaces and parentheses; the fields after its last ")" do not.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(entry), ppid);
    } catch {
      // gone meanwhile
    }
  }
  const found = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift();
    for (const [child, ppid] of parents) {
      if (ppid === parent) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}

/**
 * Resets VmHWM to the current RSS (Linux: `echo 5 > /proc/<pid>/clear_refs`) of the process and
 * its descendants, so the next
 * peak belongs to the next scenario. Returns false where that is not permitted.
 *
 * @param {number} pid
 */
export function resetPeak(pid) {
  try {
    for (const each of [pid, ...descendants(pid)])
      fs.writeFileSync(`/proc/${each}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/**
 * Samples a process's RSS every `intervalMs` until `stop()`, which returns the samples and the
 * peak (the larger of the sampled maximum and VmHWM, which sees between samples).
 *
 * @param {number} pid
 * @param {number} [intervalMs]
 */
export function sampleMemory(pid, intervalMs = 50) {
  const started = Date.now();
  /** @type {{ t: number, rss: number }[]} */
  const samples = [];
  const take = () => {
    const memory = readMemory(pid);
    if (memory) samples.push({ t: Date.now() - started, rss: memory.rss });
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      const sampledPeak = Math.max(...samples.map((s) => s.rss));
      const hwm = readMemory(pid)?.hwm ?? 0;
      return { samples, peak: Math.max(sampledPeak, hwm) };
    },
  };
}

export const toMiB = (/** @type {number} */ bytes) => bytes / MIB;
