// @ts-check
import fs from 'node:fs';

/**
 * @typedef {{ key: string, figure: string, unit: string, registry: number | string | null,
 *   nginx?: number | null, ratio?: number | null, target?: string,
 *   pass?: boolean | null }} Row
 */

/**
 * @param {unknown} value
 * @returns {value is number | string}
 */
const isFigure = (value) => value !== null && value !== undefined && !Number.isNaN(value);

/**
 * A row with a target: `check` decides pass/fail from the row's figures. When the figure is
 * missing (its phase did not run, or nginx was left out) the result is null: skipped.
 *
 * @param {Row} row
 * @param {string} target
 * @param {(row: Row) => boolean} check
 * @param {boolean} [measured] whether the figures `check` needs exist (default: registry's does)
 * @returns {Row}
 */
export function targetRow(row, target, check, measured = isFigure(row.registry)) {
  return { ...row, target, pass: measured ? check(row) : null };
}

/**
 * Registry vs nginx, with the ratio registry / nginx when both exist.
 *
 * @param {{ key: string, figure: string, unit: string, registry: number | null,
 *   nginx?: number | null }} figures
 * @returns {Row}
 */
export function versusRow({ key, figure, unit, registry, nginx }) {
  const ratio = isFigure(registry) && nginx ? registry / nginx : null;
  return { key, figure, unit, registry, nginx: nginx ?? null, ratio };
}

/**
 * @param {number | string | null | undefined} value
 * @param {string} unit
 */
const format = (value, unit) => {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'string') return value;
  if (Number.isNaN(value)) return '-';
  if (Number.isInteger(value)) return `${value}${unit ? ` ${unit}` : ''}`;
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return `${value.toFixed(digits)}${unit ? ` ${unit}` : ''}`;
};

/**
 * The results as a fixed-width text table (figure, registry, nginx, ratio, target, result).
 *
 * @param {Row[]} rows
 */
export function formatTable(rows) {
  const header = ['figure', 'registry', 'nginx', 'ratio', 'target', 'result'];
  const lines = rows.map((row) => [
    row.figure,
    format(row.registry, row.unit),
    format(row.nginx, row.unit),
    row.ratio === null || row.ratio === undefined ? '-' : `${row.ratio.toFixed(2)}×`,
    row.target ?? '',
    row.pass === undefined ? '' : row.pass === null ? 'skipped' : row.pass ? 'PASS' : 'FAIL',
  ]);
  return renderColumns([header, ...lines], [false, true, true, true, false, false]);
}

/**
 * This run next to an earlier results file: every row the two share, by key.
 *
 * @param {Row[]} rows
 * @param {string} previousFile
 */
export function formatComparison(rows, previousFile) {
  /** @type {{ rows: Row[], startedAt: string }} */
  const previous = JSON.parse(fs.readFileSync(previousFile, 'utf8'));
  const before = new Map(previous.rows.map((row) => [row.key, row]));
  /** @type {string[][]} */
  const lines = [];
  for (const row of rows) {
    const old = before.get(row.key);
    if (!old) continue;
    const change =
      typeof row.registry === 'number' && typeof old.registry === 'number' && old.registry !== 0
        ? `${row.registry >= old.registry ? '+' : ''}${(((row.registry - old.registry) / old.registry) * 100).toFixed(1)}%`
        : '-';
    lines.push([
      row.figure,
      format(old.registry, row.unit),
      format(row.registry, row.unit),
      change,
    ]);
  }
  const title = `Compared with ${previousFile} (${previous.startedAt}), registry column:`;
  return `${title}\n${renderColumns([['figure', 'before', 'now', 'change'], ...lines], [false, true, true, true])}`;
}

/**
 * @param {string[][]} table
 * @param {boolean[]} rightAligned
 */
function renderColumns(table, rightAligned) {
  const widths = table[0].map((_, column) => Math.max(...table.map((line) => line[column].length)));
  const render = (/** @type {string[]} */ line) =>
    line
      .map((cell, column) =>
        rightAligned[column] ? cell.padStart(widths[column]) : cell.padEnd(widths[column]),
      )
      .join('  ')
      .trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [render(table[0]), rule, ...table.slice(1).map(render)].join('\n');
}
