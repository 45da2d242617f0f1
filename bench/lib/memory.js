import fs from 'node:fs';
import { clearInterval, setInterval } from 'node:timers';

const MIB = 1024 * 1024;

/**
 * VmRSS (resident now) and VmHWM (the peak since start or the last reset) of a process, in
 * bytes, from /proc/<pid>/status. Undefined once the process has gone.
 *
 * @param {number} pid
 * @returns {{ rss: number, hwm: number } | undefined}
 */
export function readMemory(pid) {
  let status;
  try {
    status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kib = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS') * 1024, hwm: kib('VmHWM') * 1024 };
}

/**
 * Resets VmHWM to the current RSS (Linux: `echo 5 > /proc/<pid>/clear_refs`), so the next
 * peak belongs to the next scenario. Returns false where that is not permitted.
 *
 * @param {number} pid
 */
export function resetPeak(pid) {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
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

export const toMiB = (bytes) => bytes / MIB;
