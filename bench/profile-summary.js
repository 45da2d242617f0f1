#!/usr/bin/env node
// @ts-check
/**
 * `node bench/profile-summary.js FILE.cpuprofile [N]`: the N (default 25) functions with the
 * most self time in a V8 CPU profile (from `npm run bench -- --cpu-prof`), and the share of
 * time spent under a few layers (Koa, the router, SQLite, logging). Enough to say where a
 * request's time goes without opening DevTools.
 */
import fs from 'node:fs';

const [file, count = '25'] = process.argv.slice(2);
if (!file) {
  process.stderr.write('Usage: node bench/profile-summary.js FILE.cpuprofile [N]\n');
  process.exit(2);
}
/**
 * What a V8 `.cpuprofile` holds (the part read here).
 *
 * @typedef {{ functionName: string, url: string, lineNumber: number }} CallFrame
 * @typedef {{ id: number, callFrame: CallFrame, children?: number[] }} ProfileNode
 * @typedef {{ nodes: ProfileNode[], samples: number[], timeDeltas: number[] }} Profile
 */
/** @type {Profile} */
const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
/** @type {Map<number, ProfileNode>} */
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
/** Every sampled node id has its node. @param {number} id */
const node = (id) => /** @type {ProfileNode} */ (nodes.get(id));
/** @type {Map<number, number>} microseconds of self time by node id */
const self = new Map();
profile.samples.forEach((id, index) =>
  self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)),
);
const total = [...self.values()].reduce((sum, us) => sum + us, 0);
const idle = [...self]
  .filter(([id]) => node(id).callFrame.functionName === '(idle)')
  .reduce((s, [, us]) => s + us, 0);

/** @param {CallFrame} frame */
const label = ({ functionName, url, lineNumber }) => {
  const where = url
    ? url.replace(/^.*\/(node_modules\/|build\/)/, '$1').replace(/^node:/, 'node:')
    : '';
  return `${functionName || '(anonymous)'} ${where}${where ? `:${lineNumber + 1}` : ''}`;
};
/** @type {Map<string, number>} */
const bySelf = new Map();
for (const [id, us] of self) {
  const key = label(node(id).callFrame);
  bySelf.set(key, (bySelf.get(key) ?? 0) + us);
}
const pct = (/** @type {number} */ us) => `${((us / total) * 100).toFixed(1).padStart(5)}%`;
process.stdout.write(
  `${file}: ${(total / 1e6).toFixed(1)} s sampled, ${pct(idle).trim()} idle\n\nself time:\n`,
);
for (const [key, us] of [...bySelf].sort((a, b) => b[1] - a[1]).slice(0, Number(count))) {
  process.stdout.write(`${pct(us)}  ${key}\n`);
}

// Inclusive time under each layer: a sample counts once for the first matching frame on its stack.
/** @type {Map<number, number>} */
const parents = new Map();
for (const parent of profile.nodes)
  for (const child of parent.children ?? []) parents.set(child, parent.id);
/** @type {Array<[string, RegExp]>} */
const LAYERS = [
  ['request log', /middleware\/request-log/],
  ['SQLite (better-sqlite3)', /better-sqlite3|storage\//],
  ['file streaming', /send-firmware|node:internal\/fs\/(streams|promises)/],
  ['multipart upload', /multer|busboy|firmware-upload/],
  ['router', /@koa\/router|path-to-regexp/],
  ['koa', /node_modules\/koa\//],
  ['node http', /node:_http|node:net|node:internal\/stream/],
  ['GC', /^\(garbage collector\)/],
];
/** @type {Map<string, number>} */
const layerTime = new Map();
for (const [id, us] of self) {
  for (let cursor = /** @type {number | undefined} */ (id); cursor !== undefined;) {
    const frame = node(cursor).callFrame;
    const text = `${frame.functionName} ${frame.url}`;
    const layer = LAYERS.find(([, pattern]) => pattern.test(frame.url) || pattern.test(text));
    if (layer) {
      layerTime.set(layer[0], (layerTime.get(layer[0]) ?? 0) + us);
      break;
    }
    cursor = parents.get(cursor);
  }
}
process.stdout.write('\nincluding callees (first matching layer on the stack):\n');
for (const [name] of LAYERS) process.stdout.write(`${pct(layerTime.get(name) ?? 0)}  ${name}\n`);
