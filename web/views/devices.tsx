import { useEffect, useState } from 'preact/hooks';
import { list, ApiError, type Device } from '../api.js';
import { deviceState, Paging, StateBadge, Title } from '../components.js';
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

export function DevicesView({ groupNames }: { groupNames: Map<string, string> }) {
  return (
    <main>
      <Title>Devices</Title>
      <DevicesTable groupNames={groupNames} />
    </main>
  );
}
