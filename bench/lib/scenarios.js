// @ts-check
import { Buffer } from 'node:buffer';
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { drive, randomPath } from './load.js';
import { readMemory, resetPeak, sampleMemory, toMiB } from './memory.js';
import { uploadBody } from './multipart.js';
import { request } from './net.js';

const latestPath = (/** @type {string} */ id) => `/v1/ota/device/latest/${id}`;
const downloadPath = (/** @type {{ id: string, token: string }} */ { id, token }) =>
  `/v1/ota/device/download/${id}${token}`;

/**
 * Device polls: `GET latest/<id>` for ids drawn from `ids`, 100 connections, on any server
 * that answers that URL (the registry or nginx).
 *
 * @param {string} url
 * @param {string[]} ids
 * @param {{ duration: number, connections?: number }} options
 */
export function pollLatest(url, ids, { duration, connections = 100 }) {
  const paths = ids.map(latestPath);
  return drive({ url, connections, duration, requests: [randomPath(paths)] });
}

/**
 * A release: every connection downloads the firmware over and over.
 *
 * @param {string} url
 * @param {{ id: string, token: string }[]} devices
 * @param {{ duration: number, connections?: number }} options
 */
export function downloadFirmware(url, devices, { duration, connections = 50 }) {
  const paths = devices.map(downloadPath);
  return drive({ url, connections, duration, requests: [randomPath(paths)] });
}

/**
 * The management list an operator's dashboard pages through, with a search, cycling through
 * a search that matches ~100 devices, one that matches all (a version) and one that matches
 * none (the full scan).
 *
 * @param {string} url
 * @param {string} apiKey
 * @param {string[]} searches
 * @param {{ duration: number, connections?: number }} options
 */
export function listWithSearch(url, apiKey, searches, { duration, connections = 10 }) {
  const paths = searches.map(
    (search) => `/v1/ota/device?limit=50&search_value=${encodeURIComponent(search)}`,
  );
  return drive({
    url,
    connections,
    duration,
    headers: { authorization: `Bearer ${apiKey}` },
    requests: [randomPath(paths)],
  });
}

/**
 * `count` uploads of `image` (or each of `images`) at once, each to its own device under a new
 * version (so each should be a 201), measuring the registry's RSS growth over its level just
 * before.
 *
 * @param {{ url: string, pid: number }} registry
 * @param {{ apiKey: string, devices: { id: string, token: string }[], image?: Buffer,
 *   images?: Buffer[], version: string }} options
 */
export async function concurrentUploads(registry, { apiKey, devices, image, images, version }) {
  const bodies = devices.map(({ id, token }, i) => {
    const bytes = images?.[i] ?? image;
    if (!bytes) throw new Error('concurrentUploads: no image');
    return uploadBody({ device: id, token, version, image: bytes });
  });
  const before = readMemory(registry.pid)?.rss ?? NaN;
  resetPeak(registry.pid);
  const sampler = sampleMemory(registry.pid, 50);
  const started = performance.now();
  const answers = await Promise.all(
    bodies.map(({ body, contentType }) =>
      request(`${registry.url}/v1/ota/device`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${apiKey}`,
          'content-type': contentType,
          'content-length': String(body.length),
        },
        body,
        timeoutMs: 120_000,
      }).then(
        ({ status }) => status,
        (err) => `error: ${err.message}`,
      ),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  const { peak } = sampler.stop();
  return {
    statuses: answers,
    created: answers.filter((status) => status === 201).length,
    seconds,
    rssBeforeMiB: toMiB(before),
    rssPeakMiB: toMiB(peak),
    rssGrowthMiB: toMiB(peak - before),
  };
}

/**
 * The soak: 100 connections, each cycling through 16 polls, 3 downloads and 1 upload of a new
 * version (so files are pruned while others download them), for `duration` seconds. RSS is
 * sampled throughout; "flat" compares the peak of the last quarter with the second quarter's.
 *
 * @param {{ url: string, pid: number }} registry
 * @param {{ apiKey: string, devices: { id: string, token: string }[], image: Buffer,
 *   duration: number }} options
 */
export async function soak(registry, { apiKey, devices, image, duration }) {
  let uploads = 0;
  const pick = () => devices[Math.floor(Math.random() * devices.length)];
  const poll = {
    method: 'GET',
    setupRequest: (/** @type {import('autocannon').Request} */ req) => ({
      ...req,
      path: latestPath(pick().id),
    }),
  };
  const download = {
    method: 'GET',
    setupRequest: (/** @type {import('autocannon').Request} */ req) => ({
      ...req,
      path: downloadPath(pick()),
    }),
  };
  const upload = {
    method: 'POST',
    setupRequest: (/** @type {import('autocannon').Request} */ req) => {
      const { id, token } = pick();
      const version = `3.${++uploads}.0`;
      const { body, contentType } = uploadBody({ device: id, token, version, image });
      return {
        ...req,
        path: '/v1/ota/device',
        body,
        headers: {
          ...req.headers,
          authorization: `Bearer ${apiKey}`,
          'content-type': contentType,
        },
      };
    },
  };
  const cycle = [
    ...Array(8).fill(poll),
    download,
    ...Array(8).fill(poll),
    download,
    download,
    upload,
  ];
  const sampler = sampleMemory(registry.pid, 250);
  const result = await drive({ url: registry.url, connections: 100, duration, requests: cycle });
  const { samples, peak } = sampler.stop();
  const window = (/** @type {number} */ from, /** @type {number} */ to) => {
    const inWindow = samples.filter(
      ({ t }) => t >= from * duration * 1000 && t <= to * duration * 1000,
    );
    return Math.max(...inWindow.map(({ rss }) => rss));
  };
  return {
    ...result,
    uploads,
    rssPeakMiB: toMiB(peak),
    rssSecondQuarterMiB: toMiB(window(0.25, 0.5)),
    rssLastQuarterMiB: toMiB(window(0.75, 1)),
    rssDriftMiB: toMiB(window(0.75, 1) - window(0.25, 0.5)),
  };
}

/**
 * The Action bundle's start: spawn `node dist/index.js` with an empty environment (so it
 * stops at its first check, before any network) and time the first line it prints. The
 * median of `runs`.
 *
 * @param {string} bundle
 * @param {{ runs?: number, cwd: string }} options
 */
export async function actionStartup(bundle, { runs = 5, cwd }) {
  const times = [];
  let firstLine = '';
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const child = spawn(process.execPath, [bundle], {
      cwd,
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const line = await new Promise((resolve) => {
      let done = false;
      const first = (/** @type {Buffer} */ chunk) => {
        if (done) return;
        done = true;
        resolve(chunk.toString().split('\n')[0]);
      };
      child.stdout.once('data', first);
      child.stderr.once('data', first);
      child.once('exit', () => first(Buffer.from('')));
      sleep(10_000, undefined, { ref: false }).then(() =>
        first(Buffer.from('(no output within 10 s)')),
      );
    });
    times.push(performance.now() - started);
    firstLine = line;
    child.kill('SIGKILL');
    await /** @type {Promise<void>} */ (
      new Promise((resolve) =>
        child.exitCode !== null ? resolve(undefined) : child.once('exit', () => resolve(undefined)),
      )
    );
  }
  times.sort((a, b) => a - b);
  return { medianMs: times[Math.floor(times.length / 2)], times, firstLine };
}
