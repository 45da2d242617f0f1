import { createHash } from 'node:crypto';
import { OBJECT_ID } from '../../contract/ids.js';
import { nowIso } from '../ids.js';
import type { AppContext } from '../context.js';
import { logError } from '../log.js';
import type { MqttLink } from '../mqtt/mqtt-link.js';
import { parseReportTopic, reportFilter, type TopicTemplates } from '../mqtt/topics.js';
import type { Db } from '../storage/sqlite/database.js';
import type { DeviceReportRow, DeviceReportStore } from '../storage/sqlite/device-reports.js';

/** How long MQTT reports wait in memory before they are written together. */
const REPORT_FLUSH_MS = 1000;
/** How often the subscriptions are compared with the accounts' MQTT users (other processes change them). */
const SUBSCRIPTION_REFRESH_MS = 5000;
/** Larger payloads are not a device's status or answer: ignored unread. */
const MAX_PAYLOAD = 1024;
const MAX_VERSION_LENGTH = 64;

/**
 * What devices say over MQTT (API.md "Push"): `update-response` `{"code":N}` and `status`
 * `{"fw_version","uptime",...}`, recorded for a device of the account whose MQTT user the topic
 * names (the broker authenticated the publisher; docs/push.md has the ACLs that make that true).
 *
 * Like check-ins (checkin-recorder.ts), reports wait in memory and are written in one
 * transaction about once a second, the latest per device winning, so a fleet's status stream
 * (IoTaaP OS publishes every 5 s) costs one write per device per second at most, never one per
 * message, and never blocks a poll.
 */
export class DeviceReportRecorder {
  private pending = new Map<string, DeviceReportRow>();
  private timer: NodeJS.Timeout | undefined;
  private readonly observers: Array<(row: DeviceReportRow) => void> = [];

  constructor(
    private readonly db: Db,
    private readonly store: DeviceReportStore,
    private readonly topics: TopicTemplates,
    private readonly intervalMs: number = REPORT_FLUSH_MS,
  ) {}

  /** One message from the broker; anything that is not a well-formed report is ignored. */
  receive(topic: string, payload: Buffer, now: number = Date.now()): void {
    if (payload.length > MAX_PAYLOAD) return;
    const status = parseReportTopic(this.topics.status, topic);
    const response = status ? undefined : parseReportTopic(this.topics.updateResponse, topic);
    const where = status ?? response;
    if (!where || !OBJECT_ID.test(where.device)) return;
    const body = parseObject(payload);
    if (!body) return;
    const at = nowIso(now);
    if (status) {
      const version =
        typeof body.fw_version === 'string' &&
        body.fw_version !== '' &&
        body.fw_version.length <= MAX_VERSION_LENGTH
          ? body.fw_version
          : null;
      const uptime =
        typeof body.uptime === 'number' && Number.isSafeInteger(body.uptime) && body.uptime >= 0
          ? body.uptime
          : null;
      if (version === null && uptime === null) return;
      this.add(where.user, where.device, { status: { at, version, uptime } });
    } else {
      const { code } = body;
      if (typeof code !== 'number' || !Number.isInteger(code) || code < 100 || code > 999) return;
      this.add(where.user, where.device, { response: { at, code } });
    }
  }

  /** Writes every waiting report in one transaction. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const rows = [...this.pending.values()];
    this.pending = new Map();
    this.db.transaction(() => {
      for (const row of rows) {
        this.store.record(row);
        for (const observer of this.observers) observer(row);
      }
    })();
  }

  /** Also tells `observer` every report as it is written (rollouts verify from them). */
  onRecord(observer: (row: DeviceReportRow) => void): void {
    this.observers.push(observer);
  }

  private add(mqttUser: string, deviceId: string, report: Partial<DeviceReportRow>): void {
    const key = `${mqttUser}/${deviceId}`;
    const earlier = this.pending.get(key);
    this.pending.set(key, { ...(earlier ?? { mqttUser, deviceId }), ...report });
    if (!this.timer) {
      this.timer = setTimeout(() => {
        try {
          this.flush();
        } catch (err) {
          // Best effort, like check-ins: the device's next status restores the state.
          logError('error writing MQTT device reports', err);
        }
      }, this.intervalMs);
      this.timer.unref();
    }
  }
}

/**
 * Keeps the link subscribed to the report topics of every account that has an MQTT user: at
 * start, at once when this process changes one, and every few seconds for changes made by
 * another process (a worker's `PUT /v1/account`, the operator CLI, another replica).
 *
 * With `share` (replicas on one PostgreSQL database), every filter is an MQTT shared
 * subscription, `$share/<share>/<filter>`: the broker gives each report to one of the replicas
 * subscribed under that name, so a report is recorded once, not once per replica.
 */
export class ReportSubscriptions {
  private current = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly link: MqttLink,
    private readonly topics: TopicTemplates,
    private readonly mqttUsers: () => string[],
    recorder: DeviceReportRecorder,
    private readonly share?: string,
  ) {
    link.onMessage((topic, payload) => recorder.receive(topic, payload));
  }

  start(): void {
    this.refresh();
    this.timer = setInterval(() => this.refresh(), SUBSCRIPTION_REFRESH_MS);
    this.timer.unref();
  }

  refresh(): void {
    const wanted = new Set<string>();
    const prefix = this.share ? `$share/${this.share}/` : '';
    for (const user of this.mqttUsers()) {
      wanted.add(prefix + reportFilter(this.topics.updateResponse, user));
      wanted.add(prefix + reportFilter(this.topics.status, user));
    }
    this.link.unsubscribe([...this.current].filter((filter) => !wanted.has(filter)));
    this.link.subscribe([...wanted].filter((filter) => !this.current.has(filter)));
    this.current = wanted;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

function parseObject(payload: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(payload.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Subscribes the context's broker link to every account's report topics (nothing without
 * `--mqtt`). Exactly one process of a replica does this: `serve`, or the primary of
 * `serve --workers N`. On PostgreSQL, where several replicas may run, through a shared
 * subscription named after the database (see shareName).
 */
export function startReportSubscriptions(context: AppContext): ReportSubscriptions | undefined {
  const link = context.push.link;
  if (!link || !context.config.mqtt) return undefined;
  const { database } = context.config;
  const subscriptions = new ReportSubscriptions(
    link,
    context.config.mqtt.topics,
    () => context.auth.mqttUsers(),
    context.reports,
    database ? shareName(database.url) : undefined,
  );
  context.push.onAccountsChanged(() => subscriptions.refresh());
  subscriptions.start();
  return subscriptions;
}

/**
 * The shared subscription name of the replicas of one registry: the same for every replica that
 * names the same database (host, port, database name; user and password aside), and different
 * for registries on other databases that use the same broker, which must not take each other's
 * reports. Replicas that name the server differently (an IP address here, a host name there)
 * get different names: each report is then recorded once per name, harmlessly (docs/storage.md).
 */
function shareName(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  const where = `${url.hostname.toLowerCase()}:${url.port || '5432'}${decodeURIComponent(url.pathname)}`;
  return `ota-registry-${createHash('sha256').update(where).digest('hex').slice(0, 16)}`;
}
