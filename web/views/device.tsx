import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type Device } from '../api.js';
import { deviceState, LoadFailed, StateBadge, Title } from '../components.js';
import { ago, bytes, duration, RESPONSE_CODES } from '../format.js';
import { href } from '../router.js';
import { HistoryTable, TargetActions } from './target-actions.js';

/** One device: what it is served and runs, what it last reported, its history and actions. */
export function DeviceView({ id, groupNames }: { id: string; groupNames: Map<string, string> }) {
  const [device, setDevice] = useState<Device | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    api<Device>('GET', `/v1/devices/${id}`).then(setDevice, (err: unknown) =>
      setError(err instanceof ApiError ? err.message : String(err)),
    );
  }, [id, reload]);

  if (error) return <LoadFailed title="Device" message={error} />;
  if (!device) return <main aria-busy="true" />;
  const response = device.last_update_response;
  return (
    <main>
      <Title>
        <span class="name">{device.name}</span>
      </Title>
      <p class="id">{device._id}</p>
      <dl class="facts">
        <dt>State</dt>
        <dd>
          <StateBadge state={deviceState(device)} />
        </dd>
        <dt>Version</dt>
        <dd class="version">{device.version ?? '–'}</dd>
        <dt>Running</dt>
        <dd class="version">
          {device.running_version ?? '–'}
          {device.running_version_source && (
            <small>
              {' '}
              (from {device.running_version_source === 'mqtt' ? 'MQTT status' : 'download'})
            </small>
          )}
        </dd>
        <dt>Group</dt>
        <dd class="name">
          {device.group ? (
            <a href={href('groups', device.group)}>
              {groupNames.get(device.group) ?? device.group}
            </a>
          ) : (
            'none'
          )}
        </dd>
        <dt>Chip</dt>
        <dd>{device.chip ?? 'not known yet'}</dd>
        <dt>Last contact</dt>
        <dd>
          <time dateTime={device.last_contact ?? undefined}>{ago(device.last_contact)}</time>
        </dd>
      </dl>
      <section aria-labelledby="reports">
        <h2 id="reports">Last reports</h2>
        <dl class="facts">
          <dt>MQTT response</dt>
          <dd>
            {response
              ? `${response.code} ${RESPONSE_CODES[response.code] ?? ''}, ${ago(response.at)}`
              : 'none'}
          </dd>
          <dt>Uptime</dt>
          <dd>{duration(device.uptime)}</dd>
          <dt>MAC</dt>
          <dd>{device.mac ?? '–'}</dd>
          <dt>Free space</dt>
          <dd>{bytes(device.free_space)}</dd>
          <dt>SDK</dt>
          <dd>{device.sdk_version ?? '–'}</dd>
        </dl>
      </section>
      {device.group && (
        <p class="hint">
          This device is served its group's firmware: upload, roll back and trigger on the group's
          page.
        </p>
      )}
      <TargetActions kind="device" id={device._id} />
      <HistoryTable kind="device" id={device._id} onChanged={() => setReload((n) => n + 1)} />
    </main>
  );
}
