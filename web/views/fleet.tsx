import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type FleetState, type FleetSummary, type Group } from '../api.js';
import { STATE_LABELS, Title } from '../components.js';
import { count, span } from '../format.js';

const STATES: FleetState[] = ['up-to-date', 'pending', 'failed', 'silent', 'unknown'];
/** The versions drawn one by one; the rest share one bar. */
const TOP_VERSIONS = 6;

/** The version chart's geometry, in its own units (the SVG scales to the page's width). */
const ROW = 30;
const LABEL = 170;
const BAR = 340;

/** Versions are at most 64 characters; the chart has room for about 24. */
const shorten = (text: string) => (text.length > 24 ? `${text.slice(0, 23)}…` : text);

const percent = (n: number, of: number) => (of === 0 ? 0 : Math.round((n / of) * 100));

/**
 * The fleet in one picture: one bar split by state (each part in its colour and, in the legend,
 * its word, count and share), then one bar per running version. Readable in a second; the
 * legend says everything the colours say.
 */
export function FleetChart({ summary }: { summary: FleetSummary }) {
  const total = summary.devices;
  let x = 0;
  const segments = STATES.map((state) => {
    const width = total === 0 ? 0 : (summary.states[state] / total) * 100;
    const segment = { state, x, width };
    x += width;
    return segment;
  });
  const versions = summary.versions.slice(0, TOP_VERSIONS);
  const rest = summary.versions.slice(TOP_VERSIONS).reduce((n, v) => n + v.devices, 0);
  const rows = rest > 0 ? [...versions, { version: 'other versions', devices: rest }] : versions;
  const most = Math.max(1, ...rows.map((r) => r.devices));
  const described = STATES.map((s) => `${STATE_LABELS[s]} ${summary.states[s]}`).join(', ');
  return (
    <figure class="fleet-chart">
      <svg
        viewBox="0 0 100 8"
        preserveAspectRatio="none"
        role="img"
        aria-label={`${count(total)} devices: ${described}`}
        class="state-bar"
      >
        {segments.map(
          (s) =>
            s.width > 0 && (
              <rect
                key={s.state}
                class={`fill-${s.state}`}
                x={s.x}
                y={0}
                width={s.width}
                height={8}
              >
                <title>{`${STATE_LABELS[s.state]}: ${summary.states[s.state]}`}</title>
              </rect>
            ),
        )}
      </svg>
      <ul class="legend" aria-label="Devices by state">
        {STATES.map((state) => (
          <li key={state}>
            <span class={`swatch fill-${state}`} aria-hidden="true" />
            <strong>{STATE_LABELS[state]}</strong> {count(summary.states[state])}{' '}
            <small>({percent(summary.states[state], total)}%)</small>
          </li>
        ))}
      </ul>
      <h3>Running versions</h3>
      {rows.length === 0 ? (
        <p>No devices.</p>
      ) : (
        <svg
          viewBox={`0 0 600 ${rows.length * ROW}`}
          role="img"
          aria-label={`Devices by running version: ${rows.map((r) => `${r.version ?? 'not reported'} ${r.devices}`).join(', ')}`}
          class="version-bars"
        >
          {rows.map((row, i) => {
            const width = (row.devices / most) * BAR;
            return (
              <g key={String(row.version)} transform={`translate(0 ${i * ROW})`}>
                <text x={0} y={19} class="label">
                  {shorten(row.version ?? 'not reported')}
                </text>
                <rect x={LABEL} y={6} height={18} width={Math.max(width, 1)} class="fill-version" />
                <text x={LABEL + width + 6} y={19}>
                  {count(row.devices)}
                </text>
              </g>
            );
          })}
        </svg>
      )}
      <figcaption>
        Silent: not heard from for more than {span(summary.silent_after)}. Failed: the device
        answered an update with 203.
      </figcaption>
    </figure>
  );
}

export function FleetView({ groups }: { groups: Group[] }) {
  const [group, setGroup] = useState('');
  const [summary, setSummary] = useState<FleetSummary | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    api<FleetSummary>('GET', `/v1/fleet/summary${group ? `?group=${group}` : ''}`).then(
      (answer) => (setSummary(answer), setError(null)),
      (err: unknown) => setError(err instanceof ApiError ? err.message : String(err)),
    );
  }, [group]);

  return (
    <main>
      <Title>Fleet at a glance</Title>
      <label>
        Show
        <select value={group} onChange={(e) => setGroup(e.currentTarget.value)}>
          <option value="">All devices</option>
          {groups.map((g) => (
            <option key={g._id} value={g._id}>
              Group {g.name}
            </option>
          ))}
        </select>
      </label>
      {error && (
        <p class="notice error" role="alert">
          {error}
        </p>
      )}
      <h2>By state and running version</h2>
      {summary && <FleetChart summary={summary} />}
    </main>
  );
}
