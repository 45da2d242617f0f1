import { RegistryError, DeployError } from './errors.js';
import type { Logger } from './logger.js';
import * as messages from './messages.js';
import { MultipartBody } from './multipart.js';
import { DEFAULT_BACKOFF, isRetryableStatus, retryDelay, sleep, type Sleep } from './retry.js';
import type { DeployTarget } from './settings.js';

export type DeployStatus = 'deployed' | 'already-deployed';

export interface UploadOutcome {
  status: DeployStatus;
  /** The registry's own words, e.g. "Firmware successfully deployed". */
  message: string;
  /** Whether the registry told the devices over MQTT to update; undefined when it does not say. */
  triggered?: boolean;
  /** Why a trigger that was due could not be sent (the registry's words). */
  triggerError?: string;
}

export interface FirmwareFile {
  path: string;
  size: number;
}

export interface RegistryClientOptions {
  /** Base URL without a trailing slash. */
  registryUrl: string;
  /** Retries after the first attempt, on network errors, 5xx and 429. */
  retries: number;
  logger: Logger;
  /** Tests pass one that returns at once. */
  sleep?: Sleep;
}

/** Per attempt; a timeout counts as a network error and is retried. */
const TIMEOUT_MS = 300_000;

/** Each kind of target has its upload route and the form field that names it. */
const UPLOAD_ROUTES: Record<DeployTarget['kind'], { path: string; idField: string }> = {
  device: { path: '/v1/ota/device', idField: 'device' },
  group: { path: '/v1/ota/group', idField: 'group' },
};

/** Where an upload to this kind of target goes (what a dry run reports). */
export function uploadUrl(registryUrl: string, kind: DeployTarget['kind']): string {
  return `${registryUrl}${UPLOAD_ROUTES[kind].path}`;
}

/** The registry's 200 for an identical re-upload; IoTaaP's own success may also be a 200. */
const ALREADY_DEPLOYED = /already deployed/i;

const USER_AGENT = 'ota-deploy';

/**
 * The registry's management API as the Action and the `ota-deploy` CLI use it: log in, upload
 * a firmware. Network errors, 5xx and 429 are retried with exponential backoff; every other
 * failure becomes a RegistryError whose message says what to change.
 */
export class RegistryClient {
  private readonly sleep: Sleep;

  constructor(private readonly options: RegistryClientOptions) {
    this.sleep = options.sleep ?? sleep;
  }

  /** `POST /v1/auth/login`: a session token for the account. */
  async login(email: string, password: string): Promise<string> {
    const response = await this.send('Login', '/v1/auth/login', () => ({
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT },
      body: JSON.stringify({ email, password }),
    }));
    const body = await readJson(response);
    if (!response.ok) {
      throw new RegistryError(
        messages.loginFailed(response.status, errorText(body)),
        response.status,
        errorText(body),
      );
    }
    const token = isRecord(body) ? body['token'] : undefined;
    if (typeof token !== 'string' || token === '') {
      throw new DeployError(messages.loginWithoutToken);
    }
    return token;
  }

  /** Multipart upload of `firmware` as `version` to `target`, authorised by `authToken`. */
  async upload(
    authToken: string,
    target: DeployTarget,
    version: string,
    firmware: FirmwareFile,
    options: { trigger?: boolean; rollout?: number[] } = {},
  ): Promise<UploadOutcome> {
    const route = UPLOAD_ROUTES[target.kind];
    const fields: Array<[string, string]> = [
      [route.idField, target.id],
      ['token', target.token],
      ['version', version],
    ];
    if (options.trigger !== undefined) fields.push(['trigger', String(options.trigger)]);
    // A rollout from CI goes on by itself and stops by itself on failures (docs/rollouts.md).
    if (options.rollout) {
      fields.push(['rollout', options.rollout.join(',')], ['rollout_advance', 'auto']);
    }
    const body = new MultipartBody(fields, {
      field: 'firmware',
      filename: 'firmware.bin',
      path: firmware.path,
      size: firmware.size,
    });
    const response = await this.send('Upload', route.path, () => ({
      method: 'POST',
      headers: {
        authorization: `Bearer ${authToken}`,
        'content-type': body.contentType,
        'content-length': String(body.length),
        'user-agent': USER_AGENT,
      },
      body: body.stream(),
      duplex: 'half',
    }));
    const answer = await readJson(response);
    const text = errorText(answer);
    if (response.ok) {
      const already = response.status === 200 && text !== undefined && ALREADY_DEPLOYED.test(text);
      const triggered = isRecord(answer) ? answer['triggered'] : undefined;
      const triggerError = isRecord(answer) ? answer['trigger_error'] : undefined;
      return {
        status: already ? 'already-deployed' : 'deployed',
        message: text ?? 'Firmware successfully deployed',
        ...(typeof triggered === 'boolean' ? { triggered } : {}),
        ...(typeof triggerError === 'string' ? { triggerError } : {}),
      };
    }
    throw new RegistryError(
      messages.uploadFailed(response.status, text, {
        registryUrl: this.options.registryUrl,
        target: target.kind,
        version,
        size: firmware.size,
      }),
      response.status,
      text,
    );
  }

  /** An authorised GET of the management API (with retries): the status and the JSON body. */
  async get(authToken: string, path: string): Promise<{ status: number; body: unknown }> {
    const response = await this.send('Status', path, () => ({
      method: 'GET',
      headers: { authorization: `Bearer ${authToken}`, 'user-agent': USER_AGENT },
    }));
    return { status: response.status, body: await readJson(response) };
  }

  /**
   * One request with retries. `init` is called per attempt because a streamed body can be
   * read only once. Returns the first answer that is not retried (which may be an error).
   */
  private async send(what: string, path: string, init: () => RequestInit): Promise<Response> {
    const url = `${this.options.registryUrl}${path}`;
    const attempts = this.options.retries + 1;
    for (let attempt = 0; ; attempt++) {
      const last = attempt + 1 >= attempts;
      let response: Response;
      const request = init();
      const started = Date.now();
      this.options.logger.debug(
        `${request.method ?? 'GET'} ${url} (attempt ${attempt + 1} of ${attempts})`,
      );
      try {
        response = await fetch(url, {
          ...request,
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
      } catch (error) {
        const cause = describeNetworkError(error);
        this.options.logger.debug(`${what}: no answer after ${Date.now() - started} ms (${cause})`);
        if (last)
          throw new DeployError(messages.unreachable(this.options.registryUrl, attempts, cause));
        const delay = retryDelay(attempt, DEFAULT_BACKOFF);
        this.options.logger.warning(
          messages.retrying(`${what} failed: ${cause}`, delay, attempt + 2, attempts),
        );
        await this.sleep(delay);
        continue;
      }
      this.options.logger.debug(
        `${what}: the registry answered ${response.status} after ${Date.now() - started} ms`,
      );
      if (last || !isRetryableStatus(response.status)) return response;
      const text = errorText(await readJson(response));
      const delay = retryDelay(attempt, DEFAULT_BACKOFF, response.headers.get('retry-after'));
      const answer = text ? `${response.status}: "${text}"` : String(response.status);
      this.options.logger.warning(
        messages.retrying(`${what}: the registry answered ${answer}`, delay, attempt + 2, attempts),
      );
      await this.sleep(delay);
    }
  }
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text.trim() === '' ? undefined : text.trim().slice(0, 200);
  }
}

/** The registry's `message` (IoTaaP's login failure says `error`); a short plain body as is. */
function errorText(body: unknown): string | undefined {
  if (typeof body === 'string') return body.startsWith('<') ? undefined : body;
  if (!isRecord(body)) return undefined;
  for (const key of ['message', 'error']) {
    const value = body[key];
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  cause?: unknown;
}

/**
 * undici says "fetch failed" and hides the useful part (ECONNREFUSED, ENOTFOUND) in `cause`.
 * Duck-typed: errors from another realm (or a mock) fail `instanceof Error`.
 */
function describeNetworkError(error: unknown): string {
  const outer: ErrorLike = typeof error === 'object' && error !== null ? error : {};
  if (outer.name === 'TimeoutError') return 'no answer in time';
  const inner: ErrorLike | undefined =
    typeof outer.cause === 'object' && outer.cause !== null ? outer.cause : undefined;
  const detail = typeof inner?.message === 'string' ? inner : outer;
  const message = typeof detail.message === 'string' ? detail.message : String(error);
  const code = typeof detail.code === 'string' ? detail.code : undefined;
  return code !== undefined && !message.includes(code) ? `${message} (${code})` : message;
}
