// @ts-check
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { POSTGRES_ADMIN_URL } from './postgres.js';
import { RESULTS_DIR } from './paths.js';

export const USAGE = `Usage: npm run bench -- [options]   (or: node bench/run.js [options])

  --duration S       seconds per load scenario (default 10)
  --soak S           seconds of the mixed soak (default 60)
  --warmup S         seconds of load before each measured run (default 2; 0: none)
  --devices N        devices in the large fleet (default 100000)
  --quick            a short run: --duration 2 --soak 5 --devices 2000 (figures are rough)
  --compare FILE     print this run next to an earlier results file
  --out FILE         where to write the results (default bench/results/<timestamp>.json)
  --workers N|auto   registry processes (serve --workers); default 1, as the registry
                     starts; auto = the CPU count, as many as nginx's worker_processes auto
  --no-request-log   registry without its request log, nginx without its access log
  --nginx PATH       the nginx binary (default: nginx on PATH, then /usr/sbin/nginx)
  --nginx-workers N  nginx worker_processes (default auto, as Debian ships it)
  --without-nginx    measure only the registry (the ratios are skipped)
  --cpu-prof DIR     run the registry under node --cpu-prof, profiles into DIR
                     (summarise one with: node bench/profile-summary.js FILE)
  --only LIST        run only these phases: small, large, mqtt, rollout, action, s3,
                     postgres, replicas (comma-separated)
  --postgres URL     the PostgreSQL server where the postgres and replicas phases make
                     (and drop) their databases (default ${POSTGRES_ADMIN_URL});
                     both phases are skipped, saying why, when none answers
  --strict           exit 1 when a target is missed
  --keep             keep the temporary data directory
`;

/**
 * The bench's options, from the command line only.
 *
 * @param {string[]} argv
 */
export function readSettings(argv) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      duration: { type: 'string' },
      soak: { type: 'string' },
      warmup: { type: 'string' },
      devices: { type: 'string' },
      quick: { type: 'boolean', default: false },
      compare: { type: 'string' },
      out: { type: 'string' },
      workers: { type: 'string', default: '1' },
      'no-request-log': { type: 'boolean', default: false },
      nginx: { type: 'string' },
      'nginx-workers': { type: 'string', default: 'auto' },
      'without-nginx': { type: 'boolean', default: false },
      'cpu-prof': { type: 'string' },
      only: { type: 'string' },
      postgres: { type: 'string', default: POSTGRES_ADMIN_URL },
      strict: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const quick = values.quick;
  /**
   * @param {'duration' | 'soak' | 'warmup' | 'devices'} name
   * @param {number} fallback
   * @param {number} min
   */
  const number = (name, fallback, min) => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min)
      throw new Error(`--${name} must be a number ≥ ${min}, not "${raw}"`);
    return value;
  };
  if (!/^(auto|[1-9]\d*)$/.test(values.workers)) {
    throw new Error(`--workers must be auto or a number, not "${values.workers}"`);
  }
  if (!/^(auto|\d+)$/.test(values['nginx-workers'])) {
    throw new Error(`--nginx-workers must be auto or a number, not "${values['nginx-workers']}"`);
  }
  if (!/^postgres(ql)?:\/\/./.test(values.postgres)) {
    throw new Error(`--postgres must be a postgres:// URL, not "${values.postgres}"`);
  }
  const startedAt = new Date();
  return {
    help: values.help,
    quick,
    duration: number('duration', quick ? 2 : 10, 1),
    soak: number('soak', quick ? 5 : 60, 1),
    devices: Math.floor(number('devices', quick ? 2000 : 100_000, 100)),
    warmup: number('warmup', quick ? 0.5 : 2, 0),
    compare: values.compare,
    out:
      values.out ?? path.join(RESULTS_DIR, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`),
    workers: values.workers === 'auto' ? os.availableParallelism() : Number(values.workers),
    requestLog: !values['no-request-log'],
    nginx: values.nginx,
    nginxWorkers: values['nginx-workers'],
    withoutNginx: values['without-nginx'],
    cpuProfileDir: values['cpu-prof'] ? path.resolve(values['cpu-prof']) : undefined,
    only: parsePhases(values.only),
    postgres: values.postgres,
    strict: values.strict,
    keep: values.keep,
    startedAt,
  };
}

const PHASES = ['small', 'large', 'mqtt', 'rollout', 'action', 's3', 'postgres', 'replicas'];

/** @param {string | undefined} list */
function parsePhases(list) {
  if (list === undefined) return new Set(PHASES);
  const phases = list.split(',').map((phase) => phase.trim());
  const unknown = phases.filter((phase) => !PHASES.includes(phase));
  if (unknown.length > 0)
    throw new Error(`--only: unknown phase ${unknown.join(', ')} (expected ${PHASES.join(', ')})`);
  return new Set(phases);
}
