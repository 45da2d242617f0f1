import { KNOWN_CHIPS } from '../contract/chips.js';

/**
 * The one catalogue of messages the API answers with, and the operator CLI's error lines. IoTaaP clients (and scripts written
 * against IoTaaP) match on some of these texts, so each lives here once and tests assert
 * against this object, never against a copy of the string.
 */
export const Messages = {
  unauthorized: 'Unauthorized',
  loginWrong: 'Login or password is wrong',
  tooManyLogins: 'Too many login attempts',
  tooManyDeviceFailures: 'Too many failed requests from this address: try again later',
  logoutApiKey:
    'This is an API key, not a session: revoke it with `ota-registry key revoke` (logout ends sessions only)',
  mandatoryField: (field: string) => `${field} is a mandatory field`,
  noFileUploaded: 'No file uploaded',
  deviceIdInvalid: 'Device ID is not valid',
  noSuchDevice: 'No such device',
  deviceTokenInvalid: 'Device token is not valid',
  importedTokenInvalid: 'Device token must be 8 to 64 letters and digits',
  firmwareDeployed: 'Firmware successfully deployed',
  firmwareAlreadyDeployed: 'Firmware already deployed',
  versionConflict: (version: string) =>
    `Version ${version} was already deployed with different bytes: bump the version. ` +
    'Devices compare version strings, so a second build under an old number would never reach them',
  versionInvalid: (version: string) =>
    `Version "${truncate(version, 40)}" is not valid: use a semantic version such as 1.2.7 ` +
    '(no leading "v", at most 64 characters)',
  uploadFailed: 'Error when uploading firmware file',
  /** The `error` beside uploadFailed: what kind of failure, without paths or internals. */
  uploadStorageError: (code: string) => `storage error (${code})`,
  uploadInternalError: 'internal error',
  fileTooLarge: (limit: number) => `Firmware file is too large: the limit is ${limit} bytes`,
  unexpectedFile: 'Upload exactly one file, in the field "firmware"',
  malformedMultipart: 'Malformed multipart/form-data body',
  malformedJson: 'Malformed JSON body',
  bodyTooLarge: 'Request body is too large',
  noFirmwareAvailable: 'No firmware available',
  groupIdInvalid: 'Group ID is not valid',
  noSuchGroup: 'No such group',
  groupTokenInvalid: 'Group token is not valid',
  groupRemoved: 'Group successfully removed',
  groupNameInvalid: 'Group name must be a non-empty string of at most 100 characters',
  groupFieldInvalid:
    'group must be a group ID, or null (or "undefined", as IoTaaP sends it) to leave the group',
  chipInvalid: (chip: string) =>
    `Chip "${truncate(chip, 40)}" is not known: use ${KNOWN_CHIPS.slice(0, -1).join(', ')} ` +
    `or ${KNOWN_CHIPS.at(-1)}`,
  forceInvalid: 'force must be true or false',
  /** Flashing an image built for another chip fails on the device ("mismatch chip ID") or bricks it. */
  chipMismatch: (what: 'device' | 'group', known: string, uploaded: string) =>
    `This ${what} runs on ${known}, but the firmware is built for ${uploaded}: ` +
    `build for ${known}, or send force=true if the ${what} really is ${uploaded} now`,
  chipMismatchJoin: (deviceChip: string, groupChip: string) =>
    `The device runs on ${deviceChip}, but the group's firmware is for ${groupChip}: ` +
    'send "force": true to join anyway',
  /** API.md's text: an image without an OTA client is the last one its devices ever install. */
  otaClientMissing:
    'Firmware has no OTA client: devices that install it cannot be updated over the air again ' +
    '(send force=true to deploy it anyway)',
  versionNotKept: (version: string) =>
    `Version "${truncate(version, 40)}" is not kept: see the history for the versions a rollback can serve`,
  rolledBack: (version: string) => `Now serving version ${truncate(version, 64)}`,
  rangeNotSatisfiable: (size: number) => `Range not satisfiable: the firmware has ${size} bytes`,
  deviceRemoved: 'Device successfully removed',
  noSuchApiKey: 'No such API key (or it is already revoked)',
  deviceNameInvalid: 'Device name must be a string of at most 100 characters',
  queryInvalid: (parameter: string, expected: string) =>
    `Query parameter ${parameter} is not valid: expected ${expected}`,
  onlySketchImages: (mode: string) =>
    `This registry serves application firmware only; an update in mode "${mode}" (a file system image) is not supported`,
  updateTriggered: 'Update triggered',
  deviceInGroupTrigger: 'Device is in a group: trigger the group',
  noMqttUser: 'No MQTT user set for this account',
  mqttUnavailable: 'MQTT broker unavailable',
  mqttUserInvalid:
    "mqtt_user must be 1 to 64 characters without /, +, # or white space (it is a level of the devices' MQTT topics), or null to remove it",
  mqttUserTaken: (name: string) =>
    `MQTT user "${truncate(name, 64)}" is already set on another account: topics name one account only`,
  triggerInvalid: 'trigger must be true or false',
  crossSiteRefused:
    "Cross-site request refused: the session cookie works only from the registry's own dashboard (send Authorization: Bearer from scripts)",
  cookieInvalid: 'cookie must be true or false',
  dashboardNotBuilt: 'The dashboard is not built: run `npm run build`',
  notFound: 'Not found',
  emailInvalid: (email: string) => `"${email}" is not an email address`,
  passwordTooShort: 'The password must have at least 8 characters',
  userExists: (email: string) => `A user ${email} already exists`,
  noSuchUser: (email: string) => `No user ${email}`,
  deviceExists: (id: string) => `A device ${id} already exists`,
  jsonExpected: 'Send the body as application/json',
  tooManyFields: 'Too many form fields',
  fieldNameTooLong: 'A form field name is too long',
  fieldValueTooLong: 'A form field value is too long',
  badRequest: 'Bad request',
  headersTooLarge: 'Request header fields too large',
  requestTimeout: 'Request timeout',
  methodNotAllowed: 'Method not allowed',
  internal: 'Internal server error',
  // Staged rollouts (docs/rollouts.md).
  noRollout: 'No rollout',
  rolloutRunning: 'A rollout is running for this group: advance, abort or let it complete first',
  rolloutNoPrevious:
    'The group serves no other version yet: a rollout needs a previous version to serve outside its phase',
  rolloutPhasesInvalid:
    'phases must be rising whole percentages from 1 to 100 that end at 100, such as 5,25,100',
  rolloutFieldInvalid: (field: string, rule: string) => `${field} must be ${rule}`,
  rolloutGroupsOnly: 'rollout applies to group uploads only',
  rolloutNotIn: (action: string, state: string) => `Cannot ${action} a rollout that is ${state}`,
  // The operator CLI (`ota-registry`): a mistake on its command line, one line on stderr.
  unknownCommand: (command: string) => `unknown command "${command}" (run ota-registry --help)`,
  unknownSubcommand: (command: string, sub: string | undefined, subs: readonly string[]) =>
    `unknown command "${command} ${sub ?? ''}" (expected: ${subs.map((s) => `${command} ${s}`).join(', ')})`,
  unexpectedArgument: (argument: string) => `unexpected argument "${argument}"`,
  argumentMissing: (command: string, what: string) => `${command} needs ${what}`,
  flagRequired: (flag: string) => `${flag} is required`,
  roleInvalid: (role: string) => `--role must be admin or user, not "${role}"`,
  idAndTokenTogether: '--id and --token go together (importing a device that already has both)',
  chipFlagInvalid: (chip: string) =>
    `--chip "${chip}" is not known (expected one of: ${KNOWN_CHIPS.join(', ')})`,
  backupPostgres:
    'backup copies a SQLite registry, but the metadata is in PostgreSQL (--database/OTA_DATABASE_URL): ' +
    'back it up with pg_dump or your PostgreSQL service (docs/storage.md, "Backups")',
  backupObjectStorage: (bucket: string, prefix: string) =>
    `backup copies a data directory's database and firmware files, but firmware is in ` +
    `s3://${bucket}/${prefix} (--storage/OTA_STORAGE_URL). Protect the bucket ` +
    `with its own tools (turn on bucket versioning, or the store's replication), and copy ` +
    `the database with sqlite3's .backup (docs/storage.md, "Backups").`,
  backupNoRegistry: (dataDir: string) => `no registry in ${dataDir} (registry.db is missing)`,
  backupTargetNotDirectory: (target: string) => `${target} is not a directory`,
  backupTargetNotEmpty: (target: string) =>
    `${target} is not empty: back up into a new or empty directory`,
  // `ota-registry copy-data --from DIR` (docs/storage.md, "Moving a registry to PostgreSQL and S3").
  copyFromMissing: '--from is required: the data directory of the SQLite registry to copy',
  copyNoRegistry: (dir: string) => `--from ${dir}: no registry there (registry.db is missing)`,
  copyNotRegistry: (dir: string, problem: string) =>
    `--from ${dir}: registry.db cannot be read as a registry (${problem})`,
  copySourceSchema: (dir: string, version: number, current: number) =>
    version < current
      ? `--from ${dir}: registry.db has schema version ${version}, this registry's is ${current}: ` +
        'start the old registry once with this version of ota-registry (it upgrades the schema), stop it, and copy again'
      : `--from ${dir}: registry.db has schema version ${version}, newer than this registry knows (${current}): upgrade ota-deploy`,
  copySameTarget: (dir: string) =>
    `--from ${dir} is the target too (--data, and no --database): give the target's --database and/or --storage, or another --data`,
  copyUserClash: (email: string) =>
    `the target already has another account ${email}: copy-data copies into a new registry (or one it copied into before)`,
  // Settings `ota-registry` refuses (flags, OTA_* variables): each names where it came from.
  // A URL that parsed is never echoed: it may hold a password.
  settingRange: (source: string, value: string, what: string, min: number, max: number) =>
    `${source} is "${value}": expected ${what} from ${min} to ${max}`,
  sizeInvalid: (source: string, value: string) =>
    `${source} is "${value}": expected a size such as 8388608, 8MiB or 512KiB`,
  sizeOutOfRange: (source: string, value: string) =>
    `${source} is "${value}": expected a size from 1KiB to 1GiB`,
  hostInvalid: (source: string, value: string) =>
    `${source} is "${value}": expected a host name or IP address`,
  dataDirEmpty: (source: string) => `${source} is empty: expected a directory`,
  requestLogInvalid: (source: string, value: string) =>
    `${source} is "${value}": expected on or off`,
  trustProxyInvalid: (source: string, value: string) =>
    `${source} is "${value}": expected true or false`,
  logFormatInvalid: (source: string, value: string, formats: readonly string[]) =>
    `${source} is "${value}": expected ${formats.join(' or ')}`,
  metricsTokenInvalid: (source: string) =>
    `${source} is not valid: expected printable ASCII characters without spaces`,
  topicTemplateInvalid: (source: string, value: string, problem: string) =>
    `${source} is "${value}": ${problem}`,
  topicLength: 'expected a topic of 1 to 200 characters',
  topicWildcard: 'a topic template must not contain +, # or NUL',
  topicPlaceholderOnce: (name: string) => `expected {${name}} exactly once, as a whole topic level`,
  topicPlaceholderUnknown: (extra: string, required: readonly string[]) =>
    `${extra} is not a placeholder here (use ${required.map((n) => `{${n}}`).join(' and ')})`,
  topicPlaceholderLevel:
    'placeholders must each be a whole topic level, like /{user}/devices/{device}/status',
  mqttUrlInvalid: (source: string, problem: UrlProblem) =>
    `${source} ${problem}: expected mqtt://[user:password@]host[:port] or mqtts://...`,
  databaseUrlInvalid: (source: string, problem: UrlProblem) =>
    `${source} ${problem}: expected postgres://user:password@host:port/database (or postgresql://)`,
  storageUrlInvalid: (source: string, value: string) =>
    `${source} is "${value}": ${EXPECTED_STORAGE_URL}`,
  storagePrefixInvalid: (source: string) =>
    `${source} has an empty, . or .. segment in its prefix: ${EXPECTED_STORAGE_URL}`,
  bucketNameInvalid: (source: string, bucket: string) =>
    `${source} names the bucket "${bucket}": a bucket name is 3 to 63 lower-case letters, digits, dots or hyphens`,
  s3EndpointInvalid: (source: string, problem: UrlProblem) =>
    `${source} ${problem}: expected http(s)://host[:port], e.g. http://127.0.0.1:9000`,
  s3EndpointCredentials: (source: string) =>
    `${source} holds credentials: give them as AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`,
  s3RegionInvalid: (source: string, value: string) =>
    `${source} is "${value}": expected a region such as us-east-1`,
} as const;

/** What is wrong with a URL setting, in the words of the messages above. */
export type UrlProblem =
  | 'is not a URL'
  | `starts with ${string}//`
  | 'has no host'
  | 'has a path, query or fragment'
  | 'has a query or fragment'
  | 'has a password but no user name'
  | 'names no database';

const EXPECTED_STORAGE_URL = 'expected s3://bucket or s3://bucket/prefix';

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * An error with an HTTP status whose message is safe to show to the client. Anything else
 * thrown becomes a 500 with a generic message (see middleware/errors.ts).
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Extra fields for the JSON body, e.g. IoTaaP's `error` beside `message`. */
    readonly extra: Record<string, unknown> = {},
    /** Headers for the answer, e.g. `Retry-After` on a 429. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const badRequest = (message: string) => new HttpError(400, message);
export const unauthorized = () => new HttpError(401, Messages.unauthorized);
export const forbidden = (message: string) => new HttpError(403, message);
export const notFound = (message: string = Messages.notFound) => new HttpError(404, message);
export const conflict = (message: string) => new HttpError(409, message);
export const payloadTooLarge = (message: string) => new HttpError(413, message);
export const serviceUnavailable = (message: string) => new HttpError(503, message);
