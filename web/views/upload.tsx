import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, type Group } from '../api.js';
import { OutcomeMessage, Title, type Outcome } from '../components.js';
import { bytes } from '../format.js';
import { href } from '../router.js';

type Kind = 'device' | 'group';

interface UploadAnswer {
  message: string;
  ota: { version: string };
  triggered: boolean;
  trigger_error?: string;
}

/**
 * `POST /v1/ota/{device|group}/{id}/firmware`: the owner's upload, which needs no device token.
 * When the registry refuses (wrong chip, not an ESP image, a version taken by other bytes, no OTA
 * client) its own message is shown as it is: it names the fix.
 */
export function UploadView({ groups, params }: { groups: Group[]; params: URLSearchParams }) {
  const [kind, setKind] = useState<Kind>(params.has('group') ? 'group' : 'device');
  const [deviceId, setDeviceId] = useState(params.get('device') ?? '');
  const [groupId, setGroupId] = useState(params.get('group') ?? groups[0]?._id ?? '');
  const [file, setFile] = useState<File | null>(null);
  const [version, setVersion] = useState('');
  const [trigger, setTrigger] = useState(true);
  const [force, setForce] = useState(false);
  const [rollout, setRollout] = useState('');
  const [rollouts, setRollouts] = useState(false);
  const [dragging, setDragging] = useState(false);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [done, setDone] = useState<{ kind: Kind; id: string } | null>(null);
  const input = useRef<HTMLInputElement>(null);

  // Staged rollouts are offered only where the registry has them: its rollout route answers
  // `404 No rollout` (or a rollout) for a group, where a registry without them has no such route.
  useEffect(() => {
    if (kind !== 'group' || groupId === '') return;
    api('GET', `/v1/ota/group/${groupId}/rollout`).then(
      () => setRollouts(true),
      (err: unknown) => setRollouts(err instanceof ApiError && err.message === 'No rollout'),
    );
  }, [kind, groupId]);

  const drop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    const dropped = event.dataTransfer?.files;
    if (!dropped || dropped.length === 0) return;
    setFile(dropped[0]);
    if (input.current) input.current.files = dropped;
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    const id = kind === 'device' ? deviceId.trim() : groupId;
    if (!file) return setOutcome({ ok: false, text: 'Choose a firmware file (.bin) first' });
    const form = new FormData();
    form.append('version', version.trim());
    if (!trigger) form.append('trigger', 'false');
    if (force) form.append('force', 'true');
    if (kind === 'group' && rollouts && rollout.trim() !== '')
      form.append('rollout', rollout.trim());
    form.append('firmware', file, file.name);
    setBusy(true);
    setOutcome(null);
    setDone(null);
    try {
      const answer = await api<UploadAnswer>(
        'POST',
        `/v1/ota/${kind}/${encodeURIComponent(id)}/firmware`,
        form,
      );
      const pushed = answer.triggered
        ? ' Devices were told to update.'
        : answer.trigger_error
          ? ` Devices were not told to update: ${answer.trigger_error}.`
          : '';
      setOutcome({ ok: true, text: `${answer.message}: version ${answer.ota.version}.${pushed}` });
      setDone({ kind, id });
    } catch (err) {
      setOutcome({ ok: false, text: err instanceof ApiError ? err.message : String(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <main>
      <Title>Upload firmware</Title>
      <form class="upload" onSubmit={(e) => void submit(e)}>
        <div
          class={`drop-zone${dragging ? ' dragging' : ''}`}
          onDragOver={(e) => {
            e.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={drop}
        >
          <label>
            Firmware
            <input
              ref={input}
              type="file"
              accept=".bin,application/octet-stream"
              onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)}
            />
          </label>
          <p class="hint">Drop a .bin here, or pick one.</p>
          {file && (
            <p class="chosen">
              <span class="name">{file.name}</span>, {bytes(file.size)}
            </p>
          )}
        </div>
        <label>
          Version
          <input
            required
            value={version}
            placeholder="1.2.3"
            onInput={(e) => setVersion(e.currentTarget.value)}
          />
        </label>
        <fieldset>
          <legend>Target</legend>
          <label class="inline">
            <input
              type="radio"
              name="kind"
              checked={kind === 'device'}
              onChange={() => setKind('device')}
            />{' '}
            Device
          </label>
          <label class="inline">
            <input
              type="radio"
              name="kind"
              checked={kind === 'group'}
              onChange={() => setKind('group')}
            />{' '}
            Group
          </label>
          {kind === 'device' ? (
            <label>
              Device ID
              <input
                required
                value={deviceId}
                pattern="[0-9a-fA-F]{24}"
                onInput={(e) => setDeviceId(e.currentTarget.value)}
              />
            </label>
          ) : (
            <label>
              Group name
              <select required value={groupId} onChange={(e) => setGroupId(e.currentTarget.value)}>
                {groups.map((g) => (
                  <option key={g._id} value={g._id}>
                    {g.name}
                  </option>
                ))}
              </select>
            </label>
          )}
        </fieldset>
        <label class="inline">
          <input
            type="checkbox"
            checked={trigger}
            onChange={(e) => setTrigger(e.currentTarget.checked)}
          />{' '}
          Tell devices to update now (MQTT, when configured)
        </label>
        <label class="inline">
          <input
            type="checkbox"
            checked={force}
            onChange={(e) => setForce(e.currentTarget.checked)}
          />{' '}
          Deploy anyway (force: another chip, or no OTA client)
        </label>
        {kind === 'group' && rollouts && (
          <label>
            Rollout phases (optional)
            <input
              value={rollout}
              placeholder="5,25,100"
              onInput={(e) => setRollout(e.currentTarget.value)}
            />
          </label>
        )}
        <button type="submit" disabled={busy}>
          Upload
        </button>
        <OutcomeMessage outcome={outcome} />
        {done && (
          <p>
            <a href={href(`${done.kind}s`, done.id)}>Open the {done.kind}</a>
          </p>
        )}
      </form>
    </main>
  );
}
