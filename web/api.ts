/**
 * The dashboard's only way to the registry: the public API, same origin, with the session
 * cookie the browser holds (HttpOnly: this code never sees the token).
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Called when any answer is 401: the session ended (expired, signed out elsewhere). */
let onUnauthorized: () => void = () => undefined;
export function whenUnauthorized(handler: () => void): void {
  onUnauthorized = handler;
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, credentials: 'same-origin', headers: {} };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { 'Content-Type': 'application/json' };
  }
  let response: Response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'The registry cannot be reached: check the connection and try again');
  }
  const text = await response.text();
  let json: unknown = null;
  try {
    json = text === '' ? null : JSON.parse(text);
  } catch {
    // Not JSON (a proxy's error page): the status says enough.
  }
  if (!response.ok) {
    // The registry's own words, verbatim: they say what to fix.
    const message =
      (json as { message?: unknown } | null)?.message ??
      `${response.status} ${response.statusText}`;
    if (response.status === 401 && path !== '/v1/auth/login') onUnauthorized();
    throw new ApiError(response.status, String(message));
  }
  return json as T;
}

/** What `GET /v1/devices` answers per device (docs/api.md). */
export interface Device {
  _id: string;
  name: string;
  group?: string;
  chip: string | null;
  version: string | null;
  running_version: string | null;
  running_version_source: 'download' | 'mqtt' | null;
  update_state: 'up-to-date' | 'pending' | 'unknown';
  last_contact: string | null;
  created_at: string;
  uptime: number | null;
  last_update_response: { code: number; at: string } | null;
  mac: string | null;
  free_space: number | null;
  sdk_version: string | null;
}

export interface Group {
  _id: string;
  name: string;
  chip: string | null;
  version: string | null;
  devices: number;
}

interface ListAnswer<T> {
  rows: T[];
  total: number;
  filtered: number;
}

/** A paged list endpoint's rows under `key`, with IoTaaP's counts. */
export async function list<T>(path: string, key: string, params: Record<string, string>) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== ''));
  const answer = await api<Record<string, unknown>>('GET', `${path}?${query}`);
  return {
    rows: answer[key] as T[],
    total: answer.recordsTotal as number,
    filtered: answer.recordsFiltered as number,
  } satisfies ListAnswer<T>;
}

interface OtaRecord {
  _id: string;
  version: string;
  last_updated: string;
  size: number;
  sha256: string;
  chip: string | null;
  ota_client: string[] | null;
  current: boolean;
}

export interface History {
  current: string | null;
  history: OtaRecord[];
}

export interface Rollout {
  version: string;
  previous_version: string | null;
  phases: number[];
  phase: number;
  state: 'running' | 'paused' | 'halted' | 'completed' | 'aborted';
  devices: {
    in_phase: number;
    downloaded: number;
    verified: number;
    failed: number;
    silent?: number;
  };
  failures: Array<{ device: string; reason: string; at: string }>;
}

export type FleetState = 'up-to-date' | 'pending' | 'failed' | 'silent' | 'unknown';

export interface FleetSummary {
  group: string | null;
  silent_after: number;
  devices: number;
  states: Record<FleetState, number>;
  versions: Array<{ version: string | null; devices: number }>;
}

export interface Account {
  id: string;
  email: string;
  role: string;
  mqtt_user: string | null;
}
