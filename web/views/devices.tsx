import { useEffect, useState } from 'preact/hooks';
import { api, list, ApiError, type Device } from '../api.js';
import {
  deviceState,
  OutcomeMessage,
  Paging,
  SecretOnce,
  StateBadge,
  Title,
  type Outcome,
} from '../components.js';
import { ago } from '../format.js';
import { href } from '../router.js';

const PAGE = 25;

/** One page of devices from the server: search and paging happen there, never on all rows here. */
export function DevicesTable({
  group,
  groupNames,
}: {
  group?: string;
  groupNames: Map<string, string>;
}) {
  const [search, setSearch] = useState('');
  const [query, setQuery] = useState('');
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<{ rows: Device[]; total: number; filtered: number } | null>(
    null,
  );
  const [error, setError] = useState<string | null>(null);

  // Ask once typing pauses, not at every key; a page chosen meanwhile stays unless the search changed.
  useEffect(() => {
    const next = search.trim();
    if (next === query) return;
    const timer = setTimeout(() => {
      setQuery(next);
      setOffset(0);
    }, 250);
    return () => clearTimeout(timer);
  }, [search, query]);

  useEffect(() => {
    let live = true;
    const params = {
      search_value: query,
      offset: String(offset),
      limit: String(PAGE),
      group: group ?? '',
    };
    list<Device>('/v1/devices', 'devices', params).then(
      (answer) => live && (setPage(answer), setError(null)),
      (err: unknown) => live && setError(err instanceof ApiError ? err.message : String(err)),
    );
    return () => {
      live = false;
    };
  }, [query, offset, group]);

  return (
    <section aria-label="Devices list">
      <label class="search">
        Search
        <input
          type="search"
          placeholder="name or id"
          value={search}
          onInput={(e) => setSearch(e.currentTarget.value)}
        />
      </label>
      {error && (
        <p class="notice error" role="alert">
          {error}
        </p>
      )}
      <div class="table-scroll">
        <table aria-busy={page === null} aria-label="Devices">
          <thead>
            <tr>
              <th scope="col">Device</th>
              <th scope="col">Group</th>
              <th scope="col">Chip</th>
              <th scope="col">Version</th>
              <th scope="col">Running</th>
              <th scope="col">State</th>
              <th scope="col">Last contact</th>
            </tr>
          </thead>
          <tbody>
            {page?.rows.map((device) => (
              <tr key={device._id}>
                <th scope="row" class="name">
                  <a href={href('devices', device._id)}>{device.name}</a>
                  <small class="id">{device._id}</small>
                </th>
                <td class="name">
                  {device.group ? (
                    <a href={href('groups', device.group)}>
                      {groupNames.get(device.group) ?? device.group}
                    </a>
                  ) : (
                    '–'
                  )}
                </td>
                <td>{device.chip ?? '–'}</td>
                <td class="version">{device.version ?? '–'}</td>
                <td class="version">{device.running_version ?? '–'}</td>
                <td>
                  <StateBadge state={deviceState(device)} />
                </td>
                <td>
                  <time
                    dateTime={device.last_contact ?? undefined}
                    title={device.last_contact ?? undefined}
                  >
                    {ago(device.last_contact)}
                  </time>
                </td>
              </tr>
            ))}
            {page?.rows.length === 0 && (
              <tr>
                <td colSpan={7}>{query ? `No device matches "${query}".` : 'No devices yet.'}</td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      {page && (
        <Paging
          offset={offset}
          limit={PAGE}
          filtered={page.filtered}
          total={page.total}
          what="Devices"
          onOffset={setOffset}
        />
      )}
    </section>
  );
}

/** `POST /v1/devices`: a new device, its token shown this once for flashing into it. */
function AddDevice({ onAdded }: { onAdded: () => void }) {
  const [name, setName] = useState('');
  const [created, setCreated] = useState<{ id: string; name: string; token: string } | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);

  const add = async (event: Event) => {
    event.preventDefault();
    setOutcome(null);
    try {
      const device = await api<{ _id: string; name: string; token: string }>(
        'POST',
        '/v1/devices',
        {
          ...(name.trim() !== '' ? { name: name.trim() } : {}),
        },
      );
      setCreated({ id: device._id, name: device.name, token: device.token });
      setName('');
      onAdded();
    } catch (err) {
      setOutcome({ ok: false, text: err instanceof ApiError ? err.message : String(err) });
    }
  };

  return (
    <details class="add-device">
      <summary>Add a device</summary>
      <form onSubmit={(e) => void add(e)}>
        <label>
          Name
          <input value={name} maxLength={100} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <button type="submit">Add device</button>
      </form>
      <OutcomeMessage outcome={outcome} />
      {created && (
        <>
          <p role="status">
            Added <a href={href('devices', created.id)}>{created.name}</a> ({created.id}).
          </p>
          <SecretOnce label="New token" value={created.token} />
        </>
      )}
    </details>
  );
}

export function DevicesView({ groupNames }: { groupNames: Map<string, string> }) {
  const [generation, setGeneration] = useState(0);
  return (
    <main>
      <Title>Devices</Title>
      <AddDevice onAdded={() => setGeneration((n) => n + 1)} />
      <DevicesTable key={generation} groupNames={groupNames} />
    </main>
  );
}
