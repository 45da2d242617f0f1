import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Device, FleetState } from './api.js';
import { count } from './format.js';

/** Every state has a colour and a word: the word is always shown, the colour only helps. */
export const STATE_LABELS: Record<FleetState, string> = {
  'up-to-date': 'Up to date',
  pending: 'Pending',
  failed: 'Failed',
  silent: 'Silent',
  unknown: 'Unknown',
};

/**
 * A device's state as the fleet summary counts it, as far as one device's answer tells: its
 * update state, and failed when it is pending and its last MQTT update response was 203
 * ("failed or no update"). Silence is the Last contact column's to show.
 */
export function deviceState(device: Device): FleetState {
  if (device.update_state === 'pending' && device.last_update_response?.code === 203)
    return 'failed';
  return device.update_state;
}

export function StateBadge({ state }: { state: FleetState }) {
  return <span class={`state state-${state}`}>{STATE_LABELS[state]}</span>;
}

/** A view's title; focused when the view opens, so keyboard and screen reader users land there. */
export function Title({ children }: { children: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <h1 ref={ref} tabIndex={-1}>
      {children}
    </h1>
  );
}

/** What an action answered: the registry's own message when it refused. */
export interface Outcome {
  ok: boolean;
  text: string;
}

export function OutcomeMessage({ outcome }: { outcome: Outcome | null }) {
  if (outcome === null) return null;
  return outcome.ok ? (
    <p class="notice ok" role="status">
      {outcome.text}
    </p>
  ) : (
    <p class="notice error" role="alert">
      {outcome.text}
    </p>
  );
}

/**
 * A secret shown this once (a rotated device or group token): selectable, with a copy button.
 * Leaving the page forgets it; the registry keeps only its hash.
 */
export function SecretOnce({ label, value }: { label: string; value: string }) {
  const [copied, setCopied] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
    } catch {
      // No clipboard permission (plain HTTP, an old browser): select it for Ctrl+C instead.
      input.current?.select();
      document.execCommand('copy');
    }
    setCopied(true);
  };
  return (
    <div class="secret">
      <label>
        {label}
        <input ref={input} readOnly value={value} onFocus={(e) => e.currentTarget.select()} />
      </label>
      <button type="button" onClick={() => void copy()}>
        Copy
      </button>
      <p class="hint" role="status">
        {copied ? 'Copied. ' : ''}Shown once: store it in the device now; the registry keeps only a
        hash.
      </p>
    </div>
  );
}

/** Previous / Next over a server-side paged list, and where in it this page is. */
export function Paging(props: {
  offset: number;
  limit: number;
  filtered: number;
  total: number;
  what: string;
  onOffset: (offset: number) => void;
}) {
  const { offset, limit, filtered, total, what, onOffset } = props;
  const last = Math.min(offset + limit, filtered);
  return (
    <nav class="paging" aria-label={`${what} pages`}>
      <button
        type="button"
        disabled={offset === 0}
        onClick={() => onOffset(Math.max(0, offset - limit))}
      >
        Previous
      </button>
      <span role="status">
        {filtered === 0 ? 'None' : `${count(offset + 1)}–${count(last)} of ${count(filtered)}`}
        {filtered !== total ? ` (${count(total)} in all)` : ''}
      </span>
      <button type="button" disabled={last >= filtered} onClick={() => onOffset(offset + limit)}>
        Next
      </button>
    </nav>
  );
}

/** A view whose subject could not be loaded (unknown id, another owner's, the network). */
export function LoadFailed({ title, message }: { title: string; message: string }) {
  return (
    <main>
      <Title>{title}</Title>
      <p class="notice error" role="alert">
        {message}
      </p>
    </main>
  );
}
