import { useState } from 'preact/hooks';
import { api, ApiError, type Account } from '../api.js';
import { OutcomeMessage, Title, type Outcome } from '../components.js';

/** Email and password; the registry answers with an HttpOnly session cookie, never a token here. */
export function SignIn({
  onSignedIn,
  notice,
}: {
  onSignedIn: (account: Account) => void;
  notice: string | null;
}) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(
    notice ? { ok: true, text: notice } : null,
  );

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setOutcome(null);
    try {
      await api('POST', '/v1/auth/login', { email, password, cookie: true });
      onSignedIn(await api<Account>('GET', '/v1/account'));
    } catch (err) {
      setOutcome({ ok: false, text: err instanceof ApiError ? err.message : String(err) });
      setBusy(false);
    }
  };

  return (
    <main class="sign-in">
      <Title>ota-deploy registry</Title>
      <form onSubmit={(e) => void submit(e)}>
        <label>
          Email
          <input
            type="email"
            autoComplete="username"
            required
            value={email}
            onInput={(e) => setEmail(e.currentTarget.value)}
          />
        </label>
        <label>
          Password
          <input
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        <OutcomeMessage outcome={outcome} />
      </form>
    </main>
  );
}
