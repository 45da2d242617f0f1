import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type FleetSummary, type Group, type Rollout } from '../api.js';
import { LoadFailed, OutcomeMessage, Title, type Outcome } from '../components.js';
import { count } from '../format.js';
import { href } from '../router.js';
import { DevicesTable } from './devices.js';
import { FleetChart } from './fleet.js';
import { HistoryTable, TargetActions } from './target-actions.js';

export function GroupsView({ groups }: { groups: Group[] }) {
  return (
    <main>
      <Title>Groups</Title>
      {groups.length === 0 ? (
        <p>No groups yet.</p>
      ) : (
        <div class="table-scroll">
          <table aria-label="Groups">
            <thead>
              <tr>
                <th scope="col">Group</th>
                <th scope="col">Chip</th>
                <th scope="col">Version</th>
                <th scope="col">Devices</th>
              </tr>
            </thead>
            <tbody>
              {groups.map((group) => (
                <tr key={group._id}>
                  <th scope="row" class="name">
                    <a href={href('groups', group._id)}>{group.name}</a>
                  </th>
                  <td>{group.chip ?? '–'}</td>
                  <td class="version">{group.version ?? '–'}</td>
                  <td>{count(group.devices)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </main>
  );
}

const failure = (err: unknown): Outcome => ({
  ok: false,
  text: err instanceof ApiError ? err.message : String(err),
});

/** Each control, and the states it applies in (a finished rollout has none). */
const ROLLOUT_ACTIONS: Array<[string, Rollout['state'][]]> = [
  ['advance', ['running', 'paused']],
  ['pause', ['running']],
  ['resume', ['paused', 'halted']],
  ['abort', ['running', 'paused', 'halted']],
];

/** `GET /v1/ota/group/{id}/rollout`: its progress and controls, or "No rollout" (404). */
function RolloutPanel({ id }: { id: string }) {
  const [rollout, setRollout] = useState<Rollout | null | undefined>(undefined);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    const load = () =>
      api<Rollout>('GET', `/v1/ota/group/${id}/rollout`).then(setRollout, (err: unknown) => {
        if (err instanceof ApiError && err.status === 404) setRollout(null);
        else setOutcome(failure(err));
      });
    void load();
    // A rollout moves by itself (devices report): follow it while the page is open.
    const timer = setInterval(() => void load(), 5000);
    return () => clearInterval(timer);
  }, [id, reload]);

  const act = async (action: string) => {
    setOutcome(null);
    try {
      await api('POST', `/v1/ota/group/${id}/rollout/${action}`);
      setReload((n) => n + 1);
    } catch (err) {
      setOutcome(failure(err));
    }
  };

  return (
    <section aria-labelledby="rollout">
      <h2 id="rollout">Rollout</h2>
      <OutcomeMessage outcome={outcome} />
      {rollout === null && <p>No rollout</p>}
      {rollout && (
        <>
          <p>
            <span class={`state state-rollout-${rollout.state}`}>{rollout.state}</span>{' '}
            {rollout.previous_version ?? '–'} → <span class="version">{rollout.version}</span>,
            phase {rollout.phase + 1} of {rollout.phases.length} ({rollout.phases[rollout.phase]}%
            of devices)
          </p>
          <dl class="facts">
            <dt>In phase</dt>
            <dd>{count(rollout.devices.in_phase)}</dd>
            <dt>Downloaded</dt>
            <dd>{count(rollout.devices.downloaded)}</dd>
            <dt>Verified</dt>
            <dd>{count(rollout.devices.verified)}</dd>
            <dt>Failed</dt>
            <dd>{count(rollout.devices.failed)}</dd>
            {rollout.devices.silent !== undefined && (
              <>
                <dt>Silent</dt>
                <dd>{count(rollout.devices.silent)}</dd>
              </>
            )}
          </dl>
          <div class="buttons">
            {ROLLOUT_ACTIONS.filter(([, when]) => when.includes(rollout.state)).map(([action]) => (
              <button key={action} type="button" onClick={() => void act(action)}>
                {action[0].toUpperCase() + action.slice(1)}
              </button>
            ))}
          </div>
          {rollout.failures.length > 0 && (
            <ul aria-label="Failures">
              {rollout.failures.map((f) => (
                <li key={f.device + f.at}>
                  {/^[0-9a-f]{24}$/.test(f.device) ? (
                    <a href={href('devices', f.device)}>{f.device}</a>
                  ) : (
                    <span>{f.device}</span>
                  )}
                  : {f.reason} <time dateTime={f.at}>{f.at}</time>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </section>
  );
}

export function GroupView({ id, groupNames }: { id: string; groupNames: Map<string, string> }) {
  const [group, setGroup] = useState<Group | null>(null);
  const [summary, setSummary] = useState<FleetSummary | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    api<Group>('GET', `/v1/groups/${id}`).then(setGroup, (err: unknown) =>
      setError(err instanceof ApiError ? err.message : String(err)),
    );
    api<FleetSummary>('GET', `/v1/fleet/summary?group=${id}`).then(setSummary, () => undefined);
  }, [id, reload]);

  if (error) return <LoadFailed title="Group" message={error} />;
  if (!group) return <main aria-busy="true" />;
  return (
    <main>
      <Title>
        Group <span class="name">{group.name}</span>
      </Title>
      <p class="id">{group._id}</p>
      <dl class="facts">
        <dt>Served version</dt>
        <dd class="version">{group.version ?? 'none yet'}</dd>
        <dt>Chip</dt>
        <dd>{group.chip ?? 'not known yet'}</dd>
        <dt>Members</dt>
        <dd>{count(group.devices)}</dd>
      </dl>
      <TargetActions kind="group" id={group._id} />
      <RolloutPanel id={group._id} />
      <h2>At a glance</h2>
      {summary && <FleetChart summary={summary} />}
      <h2>Members</h2>
      <DevicesTable group={group._id} groupNames={groupNames} />
      <HistoryTable kind="group" id={group._id} onChanged={() => setReload((n) => n + 1)} />
    </main>
  );
}
