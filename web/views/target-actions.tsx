import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type History } from '../api.js';
import { OutcomeMessage, SecretOnce, type Outcome } from '../components.js';
import { bytes } from '../format.js';

type Kind = 'device' | 'group';

const failure = (err: unknown): Outcome => ({
  ok: false,
  text: err instanceof ApiError ? err.message : String(err),
});

/** The kept versions of a device or group, each with `Roll back` (the served one says so). */
export function HistoryTable({
  kind,
  id,
  onChanged,
}: {
  kind: Kind;
  id: string;
  onChanged: () => void;
}) {
  const [history, setHistory] = useState<History | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    api<History>('GET', `/v1/ota/${kind}/${id}/history`).then(setHistory, (err) =>
      setOutcome(failure(err)),
    );
  }, [kind, id, reload]);

  const rollBack = async (version: string) => {
    setOutcome(null);
    try {
      const answer = await api<{ message: string }>('POST', `/v1/ota/${kind}/${id}/rollback`, {
        version,
      });
      setOutcome({ ok: true, text: answer.message });
      setReload((n) => n + 1);
      onChanged();
    } catch (err) {
      setOutcome(failure(err));
    }
  };

  return (
    <section aria-labelledby={`history-${id}`}>
      <h2 id={`history-${id}`}>History</h2>
      <OutcomeMessage outcome={outcome} />
      {history && history.history.length === 0 && <p>No firmware uploaded yet.</p>}
      {history && history.history.length > 0 && (
        <div class="table-scroll">
          <table aria-label="History">
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Uploaded</th>
                <th scope="col">Size</th>
                <th scope="col">Chip</th>
                <th scope="col">OTA client</th>
                <th scope="col">
                  <span class="visually-hidden">Action</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {history.history.map((entry) => (
                <tr key={entry._id}>
                  <th scope="row" class="version" id={`v-${entry._id}`}>
                    {entry.version}
                  </th>
                  <td>
                    <time dateTime={entry.last_updated}>
                      {entry.last_updated.replace('T', ' ').slice(0, 16)}
                    </time>
                  </td>
                  <td>{bytes(entry.size)}</td>
                  <td>{entry.chip ?? '–'}</td>
                  <td>
                    {entry.ota_client === null ? 'unknown' : entry.ota_client.join(', ') || 'none'}
                  </td>
                  <td>
                    {entry.current ? (
                      <span class="serving">Serving</span>
                    ) : (
                      <button
                        type="button"
                        aria-describedby={`v-${entry._id}`}
                        onClick={() => void rollBack(entry.version)}
                      >
                        Roll back
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** `Trigger update` (MQTT) and token rotation; the registry's messages shown as they come. */
export function TargetActions({ kind, id }: { kind: Kind; id: string }) {
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [token, setToken] = useState<string | null>(null);

  const trigger = async () => {
    setOutcome(null);
    try {
      const answer = await api<{ message: string; topic: string }>(
        'POST',
        `/v1/ota/${kind}/${id}/trigger`,
      );
      setOutcome({ ok: true, text: `${answer.message} (${answer.topic})` });
    } catch (err) {
      setOutcome(failure(err));
    }
  };

  const rotate = async () => {
    const what = kind === 'device' ? 'The device' : "The group's devices";
    if (
      !confirm(`${what} will stop being served until flashed with the new token. Rotate the token?`)
    )
      return;
    setOutcome(null);
    try {
      const answer = await api<{ token: string }>('POST', `/v1/${kind}s/${id}/token`);
      setToken(answer.token);
    } catch (err) {
      setOutcome(failure(err));
    }
  };

  return (
    <section aria-label="Actions" class="actions">
      <div class="buttons">
        <button type="button" onClick={() => void trigger()}>
          Trigger update
        </button>
        <button type="button" onClick={() => void rotate()}>
          Rotate token
        </button>
        <a class="button" href={`#/upload?${kind}=${id}`}>
          Upload firmware
        </a>
      </div>
      <OutcomeMessage outcome={outcome} />
      {token && <SecretOnce label="New token" value={token} />}
    </section>
  );
}
