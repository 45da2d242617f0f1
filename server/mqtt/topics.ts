import { Messages } from '../errors.js';

/**
 * The MQTT topics the registry publishes triggers to and reads device reports from, as
 * templates. The defaults are IoTaaP OS's (src/mqtt/mqtt_remoteControl.cpp,
 * mqtt_dataStatus.cpp); an operator of other firmware sets their own (docs/push.md).
 *
 * Placeholders: `{user}` (the account's mqtt_user), `{device}` (a device id), `{group}` (a group
 * id). Each stands for one whole topic level, so that a report topic can be turned into a
 * subscription filter (`{device}` -> `+`) and a received topic read back into its parts.
 */
export interface TopicTemplates {
  deviceTrigger: string;
  groupTrigger: string;
  updateResponse: string;
  status: string;
}

export const IOTAAP_OS_TOPICS: TopicTemplates = {
  deviceTrigger: '/{user}/devices/{device}/update-trigger',
  groupTrigger: '/{user}/groups/{group}/update-trigger',
  updateResponse: '/{user}/devices/{device}/update-response',
  status: '/{user}/devices/{device}/status',
};

/** Which placeholders each template must contain (exactly once each). */
export const TEMPLATE_PLACEHOLDERS: Record<keyof TopicTemplates, readonly string[]> = {
  deviceTrigger: ['user', 'device'],
  groupTrigger: ['user', 'group'],
  updateResponse: ['user', 'device'],
  status: ['user', 'device'],
};

/**
 * Why a template cannot be used, or undefined when it can: every required placeholder once, as
 * a whole level; no other placeholder; no MQTT wildcards (a topic to publish to has none).
 */
export function templateProblem(template: string, required: readonly string[]): string | undefined {
  if (template === '' || template.length > 200) return Messages.topicLength;
  if (/[+#\0]/.test(template)) return Messages.topicWildcard;
  const levels = template.split('/');
  for (const name of required) {
    const count = levels.filter((level) => level === `{${name}}`).length;
    if (count !== 1) return Messages.topicPlaceholderOnce(name);
  }
  const placeholders = template.match(/\{[^}]*\}/g) ?? [];
  const extra = placeholders.find((p) => !required.includes(p.slice(1, -1)));
  if (extra) return Messages.topicPlaceholderUnknown(extra, required);
  if (placeholders.length !== required.length) {
    return Messages.topicPlaceholderLevel;
  }
  return undefined;
}

/** The topic for these values (each is a whole level; the caller checked they hold no `/`). */
export function renderTopic(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
}

/** The subscription filter for one MQTT user's devices: `{device}` becomes `+`. */
export function reportFilter(template: string, user: string): string {
  return renderTopic(template, { user, device: '+' });
}

/** Reads `{user}` and `{device}` back from a topic that matches the template; else undefined. */
export function parseReportTopic(
  template: string,
  topic: string,
): { user: string; device: string } | undefined {
  const want = template.split('/');
  const got = topic.split('/');
  if (want.length !== got.length) return undefined;
  let user: string | undefined;
  let device: string | undefined;
  for (let i = 0; i < want.length; i++) {
    if (want[i] === '{user}') user = got[i];
    else if (want[i] === '{device}') device = got[i];
    else if (want[i] !== got[i]) return undefined;
  }
  return user !== undefined && device !== undefined ? { user, device } : undefined;
}
