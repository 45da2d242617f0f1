/**
 * `GET /openapi.json`: the registry's HTTP contract (../shared/API.md, both parts) as an OpenAPI
 * 3.1 document, served as is. test/server/openapi.test.ts keeps it true: every route the router
 * has is here and every route here is on the router, and real answers of each are validated
 * against the schema for their status. A new route, field or answer goes here in the same change.
 */

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const nullable = (type: string, extra: Schema = {}): Schema => ({
  type: [type, 'null'],
  ...extra,
});
/** An object whose listed properties are all required; more may follow unless `closed`. */
const object = (properties: Record<string, Schema>, optional: string[] = [], closed = false) => ({
  type: 'object',
  properties,
  required: Object.keys(properties).filter((name) => !optional.includes(name)),
  ...(closed ? { additionalProperties: false } : {}),
});
const json = (description: string, schema: Schema) => ({
  description,
  content: { 'application/json': { schema } },
});
const error = (description: string) => ({ $ref: `#/components/responses/${description}` });
const jsonBody = (schema: Schema, required = true) => ({
  required,
  content: { 'application/json': { schema } },
});

const ID = { type: 'string', pattern: '^[0-9a-f]{24}$' };
const TIME = { type: 'string', format: 'date-time' };
const BEARER = [{ bearer: [] }];
const idParameter = (what: string) => ({
  name: 'id',
  in: 'path',
  required: true,
  description: `The ${what}'s id (24 lowercase hex characters).`,
  schema: { type: 'string' },
});
const LIST_PARAMETERS = [
  {
    name: 'search_value',
    in: 'query',
    description: 'Case-insensitive substring, taken literally (`%` and `_` are not wildcards).',
    schema: { type: 'string' },
  },
  { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
  {
    name: 'limit',
    in: 'query',
    schema: { type: 'integer', minimum: 1, maximum: 1000, default: 10 },
  },
  { name: 'draw', in: 'query', description: 'Echoed back as given.', schema: { type: 'string' } },
  {
    name: 'order_dir',
    in: 'query',
    schema: { type: 'string', enum: ['asc', 'desc'], default: 'desc' },
  },
];
const list = (key: string, row: string) =>
  object({
    [key]: { type: 'array', items: ref(row) },
    recordsTotal: { type: 'integer', minimum: 0 },
    recordsFiltered: { type: 'integer', minimum: 0 },
    draw: nullable('string'),
  });

/** An upload's answers; each route adds its own 403. */
const UPLOAD_ANSWERS = {
  201: json('Deployed: the new version is served', ref('Deployed')),
  200: json('The same version with the same bytes: nothing changed', ref('Deployed')),
  400: error('BadRequest'),
  401: error('Unauthorized'),
  404: error('NotFound'),
  409: error('Conflict'),
  413: error('TooLarge'),
  500: error('UploadFailed'),
};

/** `/v1/ota/device` or `/v1/ota/group`: IoTaaP's OTA endpoints for one kind of target. */
function otaPaths(kind: 'device' | 'group') {
  const tags = [`OTA (${kind}s)`];
  const target = idParameter(kind);
  /** The multipart form of an upload: the file, the version, the options, and `fields`. */
  const uploadBody = (fields: Record<string, Schema>) => ({
    required: true,
    content: {
      'multipart/form-data': {
        schema: object(
          {
            firmware: { type: 'string', contentMediaType: 'application/octet-stream' },
            ...fields,
            version: { type: 'string', maxLength: 64 },
            force: { type: 'string', enum: ['true', 'false'] },
            trigger: { type: 'string', enum: ['true', 'false'] },
            ...(kind === 'group'
              ? {
                  rollout: {
                    type: 'string',
                    description: 'Start a staged rollout with these phases, e.g. `5,25,100`.',
                  },
                  rollout_advance: { type: 'string', enum: ['manual', 'auto'] },
                  rollout_advance_at: { type: 'string', pattern: '^[0-9]+$' },
                  rollout_halt_after_failures: { type: 'string', pattern: '^[0-9]+$' },
                }
              : {}),
          },
          [
            'force',
            'trigger',
            'rollout',
            'rollout_advance',
            'rollout_advance_at',
            'rollout_halt_after_failures',
          ],
        ),
      },
    },
  });
  return {
    [`/v1/ota/${kind}`]: {
      get: {
        tags,
        summary: `The latest OTA record of each of the caller's ${kind}s`,
        security: BEARER,
        parameters: LIST_PARAMETERS,
        responses: {
          200: json('One row per target', list('otas', 'Ota')),
          400: error('BadRequest'),
          401: error('Unauthorized'),
        },
      },
      post: {
        tags,
        summary: `Upload firmware for a ${kind}: what latest and download serve from now on`,
        description:
          'Fields are checked in this order: the target, `token`, `version` present; the file ' +
          "present; the id's form; the version's form; the image; then ownership and token.",
        security: BEARER,
        requestBody: uploadBody({ [kind]: ID, token: { type: 'string' } }),
        responses: { ...UPLOAD_ANSWERS, 403: error('TokenInvalid') },
      },
    },
    [`/v1/ota/${kind}/{id}/firmware`]: {
      post: {
        tags,
        summary: `Upload firmware for one of the caller's ${kind}s, named in the URL (no ${kind} token)`,
        description:
          "The dashboard's upload: the owner's session or API key is the proof. Then the same " +
          'checks, guards and answers as the upload with a token: `version` present, the file, ' +
          "the id's form, the version's form, the image; the chip and OTA client guards.",
        security: BEARER,
        parameters: [target],
        requestBody: uploadBody({}),
        responses: { ...UPLOAD_ANSWERS, 403: error('CrossSite') },
      },
    },
    [`/v1/ota/${kind}/latest/{id}`]: {
      get: {
        tags,
        summary: `The version the ${kind} is served (no auth; what devices poll)`,
        description:
          'Exactly `{"ver":"..."}`: IoTaaP OS parses it into a 128-byte buffer. `Cache-Control: no-store`.',
        parameters: [target],
        responses: {
          200: json('The served version', ref('Latest')),
          404: error('NotFound'),
          429: error('TooManyFailures'),
        },
      },
    },
    [`/v1/ota/${kind}/download/{idAndToken}`]: {
      get: {
        tags,
        summary: `The served firmware's bytes (no auth: the ${kind}'s token is in the URL)`,
        description:
          'The id (24 characters) and the token joined with no separator. Exact `Content-Length` ' +
          '(never chunked), `x-MD5`, `ETag`; ranges; `304` when the updater already runs it ' +
          '(`x-ESP32-sketch-md5`) or `If-None-Match` matches. Never a redirect. Also `HEAD`.',
        parameters: [
          {
            name: 'idAndToken',
            in: 'path',
            required: true,
            schema: { type: 'string' },
          },
        ],
        responses: {
          200: {
            description: 'The firmware',
            headers: {
              'x-MD5': { schema: { type: 'string', pattern: '^[0-9a-f]{32}$' } },
              ETag: { schema: { type: 'string' } },
            },
            content: { 'application/octet-stream': { schema: { type: 'string' } } },
          },
          206: {
            description: 'A range of the firmware',
            content: { 'application/octet-stream': { schema: { type: 'string' } } },
          },
          304: { description: 'The device already runs it' },
          400: error('BadRequest'),
          404: error('NotFound'),
          416: error('RangeNotSatisfiable'),
          429: error('TooManyFailures'),
        },
      },
    },
    [`/v1/ota/${kind}/{id}/trigger`]: {
      post: {
        tags,
        summary: `Tell the ${kind} over MQTT to update now`,
        security: BEARER,
        parameters: [target],
        responses: {
          202: json(
            'The broker took the trigger',
            object({ message: { type: 'string' }, topic: { type: 'string' } }),
          ),
          401: error('Unauthorized'),
          404: error('NotFound'),
          409: error('Conflict'),
          503: error('MqttUnavailable'),
        },
      },
    },
    [`/v1/ota/${kind}/{id}/history`]: {
      get: {
        tags,
        summary: `The ${kind}'s kept versions, most recent first`,
        security: BEARER,
        parameters: [target],
        responses: {
          200: json(
            'The kept versions',
            object({
              current: nullable('string'),
              history: {
                type: 'array',
                items: {
                  type: 'object',
                  allOf: [ref('Ota')],
                  properties: { current: { type: 'boolean' } },
                  required: ['current'],
                },
              },
            }),
          ),
          401: error('Unauthorized'),
          404: error('NotFound'),
        },
      },
    },
    [`/v1/ota/${kind}/{id}/rollback`]: {
      post: {
        tags,
        summary: `Serve a kept version of the ${kind} again`,
        security: BEARER,
        parameters: [target],
        requestBody: jsonBody(
          object({ version: { type: 'string' }, force: { type: 'boolean' } }, ['force']),
        ),
        responses: {
          200: json('Now served', object({ message: { type: 'string' }, ota: ref('Ota') })),
          400: error('BadRequest'),
          401: error('Unauthorized'),
          404: error('NotFound'),
          409: error('Conflict'),
        },
      },
    },
    ...(kind === 'group' ? rolloutPaths(tags, target) : {}),
  } as Record<string, unknown>;
}

/** Staged rollouts of a group (API.md, "Staged rollouts (groups)"). */
function rolloutPaths(tags: string[], target: Schema) {
  const action = (summary: string) => ({
    post: {
      tags,
      summary,
      security: BEARER,
      parameters: [target],
      responses: {
        200: json('The rollout now', ref('Rollout')),
        401: error('Unauthorized'),
        404: error('NotFound'),
        409: error('Conflict'),
      },
    },
  });
  return {
    '/v1/ota/group/{id}/rollout': {
      get: {
        tags,
        summary: "The group's rollout and its progress",
        security: BEARER,
        parameters: [target],
        responses: {
          200: json('The rollout', ref('Rollout')),
          401: error('Unauthorized'),
          404: error('NotFound'),
        },
      },
      post: {
        tags,
        summary: 'Start serving a kept version to a growing share of the group',
        security: BEARER,
        parameters: [target],
        requestBody: jsonBody(
          object(
            {
              version: { type: 'string' },
              phases: {
                type: 'array',
                items: { type: 'integer', minimum: 1, maximum: 100 },
                minItems: 1,
              },
              halt_after_failures: { type: 'integer', minimum: 1, default: 1 },
              advance: { type: 'string', enum: ['manual', 'auto'], default: 'manual' },
              advance_at: { type: 'integer', minimum: 1, maximum: 100, default: 90 },
            },
            ['halt_after_failures', 'advance', 'advance_at'],
          ),
        ),
        responses: {
          201: json('Started', ref('Rollout')),
          400: error('BadRequest'),
          401: error('Unauthorized'),
          404: error('NotFound'),
          409: error('Conflict'),
        },
      },
    },
    '/v1/ota/group/{id}/rollout/advance': action('Move on to the next phase'),
    '/v1/ota/group/{id}/rollout/pause': action('Stop moving on (nobody new gets the version)'),
    '/v1/ota/group/{id}/rollout/resume': action('Go on after a pause or a halt'),
    '/v1/ota/group/{id}/rollout/abort': action('Serve the previous version to every device again'),
  };
}

const RESOURCE = {
  device: { key: 'devices', view: 'Device', created: 'NewDevice', tag: 'Devices' },
  group: { key: 'groups', view: 'Group', created: 'NewGroup', tag: 'Groups' },
};

/** `/v1/devices` or `/v1/groups`: the caller's devices or groups. */
function resourcePaths(kind: 'device' | 'group') {
  const { key, view, created, tag } = RESOURCE[kind];
  const tags = [tag];
  const target = idParameter(kind);
  const fields =
    kind === 'device'
      ? object(
          {
            name: { type: 'string' },
            group: { type: ['string', 'null'], description: 'A group id, or null to leave it.' },
            force: { type: 'boolean' },
          },
          ['name', 'group', 'force'],
        )
      : object({ name: { type: 'string' } });
  return {
    [`/v1/${key}`]: {
      get: {
        tags,
        summary: `The caller's ${key}`,
        security: BEARER,
        parameters:
          kind === 'device'
            ? [
                ...LIST_PARAMETERS,
                {
                  name: 'group',
                  in: 'query',
                  description: "Only this group's members (404 for another owner's group).",
                  schema: { type: 'string' },
                },
              ]
            : LIST_PARAMETERS,
        responses: {
          200: json(`A page of ${key}`, list(key, view)),
          400: error('BadRequest'),
          401: error('Unauthorized'),
          ...(kind === 'device' ? { 404: error('NotFound') } : {}),
        },
      },
      post: {
        tags,
        summary: `Create a ${kind}; its token is shown in this answer only`,
        security: BEARER,
        requestBody: jsonBody(
          object({ name: { type: 'string' }, chip: { type: 'string' } }, ['name', 'chip']),
          false,
        ),
        responses: {
          201: json(`The new ${kind} with its token`, ref(created)),
          400: error('BadRequest'),
          401: error('Unauthorized'),
        },
      },
    },
    [`/v1/${key}/{id}`]: {
      get: {
        tags,
        summary: `One ${kind}`,
        security: BEARER,
        parameters: [target],
        responses: {
          200: json(`The ${kind}`, ref(view)),
          401: error('Unauthorized'),
          404: error('NotFound'),
        },
      },
      put: {
        tags,
        summary:
          kind === 'device'
            ? 'Rename the device, or move it into or out of a group'
            : 'Rename the group',
        security: BEARER,
        parameters: [target],
        requestBody: jsonBody(fields),
        responses: {
          200: json(`The ${kind}`, ref(view)),
          400: error('BadRequest'),
          401: error('Unauthorized'),
          404: error('NotFound'),
          409: error('Conflict'),
        },
      },
      delete: {
        tags,
        summary: `Remove the ${kind} with its records and firmware files`,
        security: BEARER,
        parameters: [target],
        responses: {
          200: json('Removed', ref('Message')),
          401: error('Unauthorized'),
          404: error('NotFound'),
        },
      },
    },
    [`/v1/${key}/{id}/token`]: {
      post: {
        tags,
        summary: 'A new token; the old one stops working',
        security: BEARER,
        parameters: [target],
        responses: {
          200: json(
            'The new token, shown once',
            object({ token: { type: 'string', pattern: '^[A-Za-z0-9]+$' } }, [], true),
          ),
          401: error('Unauthorized'),
          404: error('NotFound'),
        },
      },
    },
  };
}

/** What a device is in every answer that shows one (IoTaaP's fields). */
const DEVICE_FIELDS = {
  _id: ID,
  name: { type: 'string' },
  owner: ID,
  created_at: TIME,
  last_contact: nullable('string', { format: 'date-time' }),
  __v: { const: 0 },
};

const errorResponse = (description: string, schema: Schema = ref('Error')) =>
  json(description, schema);

export const OPENAPI = {
  openapi: '3.1.0',
  info: {
    title: 'ota-deploy registry',
    version: '1',
    description:
      "A self-hosted, IoTaaP-compatible firmware registry for ESP32 fleets: IoTaaP's management " +
      'API and device API in one process. Every non-2xx answer is JSON `{"message"}`.',
    license: { name: 'MIT', identifier: 'MIT' },
  },
  components: {
    securitySchemes: {
      bearer: {
        type: 'http',
        scheme: 'bearer',
        description: 'An API key, or a session token from `POST /v1/auth/login`.',
      },
      metricsToken: { type: 'http', scheme: 'bearer', description: '`--metrics-token`, when set.' },
    },
    schemas: {
      Error: object({ message: { type: 'string' }, error: { type: 'string' } }, ['error']),
      Message: object({ message: { type: 'string' } }),
      Latest: object({ ver: { type: 'string' } }, [], true),
      Device: object(
        {
          ...DEVICE_FIELDS,
          group: ID,
          chip: nullable('string'),
          version: nullable('string', { description: 'The version it is served.' }),
          running_version: nullable('string', { description: 'The version it reported running.' }),
          running_version_source: { enum: ['download', 'mqtt', null] },
          uptime: nullable('number'),
          last_update_response: {
            oneOf: [{ type: 'null' }, object({ code: { type: 'integer' }, at: TIME })],
          },
          update_state: { enum: ['up-to-date', 'pending', 'unknown'] },
          mac: nullable('string'),
          free_space: nullable('integer'),
          sdk_version: nullable('string'),
        },
        ['group'],
      ),
      NewDevice: object(
        {
          ...DEVICE_FIELDS,
          chip: { type: 'string' },
          token: { type: 'string', pattern: '^[A-Za-z0-9]+$' },
        },
        ['chip'],
      ),
      Group: object({
        _id: ID,
        name: { type: 'string' },
        owner: ID,
        created_at: TIME,
        __v: { const: 0 },
        chip: nullable('string'),
        version: nullable('string'),
        devices: { type: 'integer', minimum: 0 },
      }),
      NewGroup: {
        type: 'object',
        allOf: [ref('Group')],
        properties: { token: { type: 'string', pattern: '^[A-Za-z0-9]+$' } },
        required: ['token'],
      },
      Ota: object(
        {
          _id: ID,
          device: ID,
          group: ID,
          __v: { const: 0 },
          last_updated: TIME,
          owner: ID,
          path: { type: 'string' },
          version: { type: 'string' },
          size: { type: 'integer', minimum: 0 },
          sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
          md5: { type: 'string', pattern: '^[0-9a-f]{32}$' },
          chip: nullable('string'),
          ota_client: { type: ['array', 'null'], items: { type: 'string' } },
        },
        ['device', 'group'],
      ),
      Deployed: object(
        {
          message: { type: 'string' },
          ota: ref('Ota'),
          triggered: { type: 'boolean' },
          trigger_error: { type: 'string' },
          rollout: ref('Rollout'),
        },
        ['trigger_error', 'rollout'],
      ),
      Account: object(
        {
          id: ID,
          email: { type: 'string' },
          role: { enum: ['admin', 'user'] },
          mqtt_user: nullable('string'),
        },
        [],
        true,
      ),
      Rollout: object({
        version: { type: 'string' },
        previous_version: nullable('string'),
        phases: { type: 'array', items: { type: 'integer' } },
        phase: { type: 'integer', minimum: 0 },
        percent: { type: 'integer', minimum: 1, maximum: 100 },
        state: { enum: ['running', 'paused', 'halted', 'completed', 'aborted'] },
        advance: { enum: ['manual', 'auto'] },
        advance_at: { type: 'integer', minimum: 1, maximum: 100 },
        halt_after_failures: { type: 'integer', minimum: 1 },
        devices: object({
          in_phase: { type: 'integer', minimum: 0 },
          downloaded: { type: 'integer', minimum: 0 },
          verified: { type: 'integer', minimum: 0 },
          failed: { type: 'integer', minimum: 0 },
          silent: { type: 'integer', minimum: 0 },
        }),
        failures: {
          type: 'array',
          items: object({
            // The device's id when a member reported the MAC, else the station MAC.
            device: {
              anyOf: [ID, { type: 'string', pattern: '^[0-9A-F]{2}(:[0-9A-F]{2}){5}$' }],
            },
            reason: { type: 'string' },
            at: TIME,
          }),
        },
        created_at: TIME,
        updated_at: TIME,
      }),
    },
    responses: {
      BadRequest: errorResponse('The request is malformed; the message names what'),
      Unauthorized: errorResponse('Missing, unknown, expired or revoked credentials'),
      NotFound: errorResponse("No such target (or another owner's), or nothing to serve"),
      TokenInvalid: errorResponse("The caller's target, a wrong token"),
      Conflict: errorResponse('The request conflicts with what is stored; the message says why'),
      TooLarge: errorResponse('The file is over the size limit'),
      UploadFailed: errorResponse(
        'Storing the upload failed; the previous firmware is still served',
      ),
      RangeNotSatisfiable: errorResponse('The range lies outside the firmware'),
      MqttUnavailable: errorResponse('No broker configured, or not reachable now'),
      CrossSite: errorResponse(
        "A change authenticated by the session cookie that does not come from the registry's own pages",
      ),
      TooManyFailures: {
        ...errorResponse('Too many failed device requests from this address (`Retry-After`)'),
        headers: { 'Retry-After': { schema: { type: 'integer', minimum: 1 } } },
      },
    },
  },
  paths: {
    '/v1/auth/login': {
      post: {
        tags: ['Accounts'],
        summary: 'A session token (expires after 30 days)',
        requestBody: jsonBody(
          object(
            {
              email: { type: 'string' },
              password: { type: 'string' },
              rememberMe: { type: 'boolean' },
              cookie: {
                type: 'boolean',
                description:
                  'true: the token goes into an HttpOnly SameSite=Strict cookie `ota_session` ' +
                  'instead of the body (the dashboard).',
              },
            },
            ['rememberMe', 'cookie'],
          ),
        ),
        responses: {
          200: json(
            'Signed in (the token in the body, or with "cookie": true in Set-Cookie only)',
            object(
              {
                user: object({ id: ID, role: { enum: ['admin', 'user'] } }),
                token: { type: 'string' },
              },
              ['token'],
            ),
          ),
          400: error('BadRequest'),
          403: error('CrossSite'),
          401: errorResponse(
            'Wrong email or password',
            object({ error: { type: 'string' }, message: { type: 'string' } }, ['message']),
          ),
          429: {
            ...errorResponse('Too many failed logins for this email or address (`Retry-After`)'),
            headers: { 'Retry-After': { schema: { type: 'integer', minimum: 1 } } },
          },
        },
      },
    },
    '/v1/auth/logout': {
      post: {
        tags: ['Accounts'],
        summary: 'End a session: its token is 401 from then on (and clear the session cookie)',
        security: BEARER,
        responses: {
          204: { description: 'Signed out' },
          403: error('CrossSite'),
          400: errorResponse('An API key, not a session'),
          401: error('Unauthorized'),
        },
      },
    },
    '/v1/account': {
      get: {
        tags: ['Accounts'],
        summary: 'The caller',
        security: BEARER,
        responses: { 200: json('The caller', ref('Account')), 401: error('Unauthorized') },
      },
      put: {
        tags: ['Accounts'],
        summary: "Set the MQTT user name (the `<user>` of the devices' topics)",
        security: BEARER,
        requestBody: jsonBody(object({ mqtt_user: nullable('string') })),
        responses: {
          200: json('The caller', ref('Account')),
          400: error('BadRequest'),
          401: error('Unauthorized'),
        },
      },
    },
    ...resourcePaths('device'),
    ...otaPaths('device'),
    ...resourcePaths('group'),
    ...otaPaths('group'),
    '/healthz': {
      get: {
        tags: ['Operations'],
        summary: 'Whether the registry and its database answer',
        responses: {
          200: json(
            'Serving',
            object({ status: { const: 'ok' }, mqtt: { enum: ['connected', 'disconnected'] } }, [
              'mqtt',
            ]),
          ),
          503: errorResponse('The database does not answer'),
        },
      },
    },
    '/metrics': {
      get: {
        tags: ['Operations'],
        summary: 'Prometheus metrics',
        security: [{}, { metricsToken: [] }],
        responses: {
          200: {
            description: 'Prometheus text format',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
          401: error('Unauthorized'),
        },
      },
    },
    '/openapi.json': {
      get: {
        tags: ['Operations'],
        summary: 'This document',
        responses: {
          200: json(
            'OpenAPI 3.1',
            object({
              openapi: { const: '3.1.0' },
              info: { type: 'object' },
              paths: { type: 'object' },
            }),
          ),
        },
      },
    },
    '/v1/fleet/summary': {
      get: {
        tags: ['Dashboard'],
        summary: 'How many devices run which version, and in which state (all, or one group)',
        security: BEARER,
        parameters: [
          {
            name: 'group',
            in: 'query',
            description: 'One group only.',
            schema: { type: 'string' },
          },
        ],
        responses: {
          200: json(
            'The counts',
            object({
              group: nullable('string'),
              silent_after: { type: 'integer', description: '`--silent-after`, in seconds.' },
              devices: { type: 'integer', minimum: 0 },
              states: object(
                Object.fromEntries(
                  ['up-to-date', 'pending', 'failed', 'silent', 'unknown'].map((state) => [
                    state,
                    { type: 'integer', minimum: 0 },
                  ]),
                ),
                [],
                true,
              ),
              versions: {
                type: 'array',
                items: object({
                  version: nullable('string'),
                  devices: { type: 'integer', minimum: 1 },
                }),
              },
            }),
          ),
          400: error('BadRequest'),
          401: error('Unauthorized'),
          404: error('NotFound'),
        },
      },
    },
    '/assets/{name}': {
      get: {
        tags: ['Dashboard'],
        summary: "The dashboard's script and style sheet (named by their content's hash)",
        parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          200: {
            description: 'The file (`Cache-Control: public, max-age=31536000, immutable`)',
            content: {
              'text/javascript': { schema: { type: 'string' } },
              'text/css': { schema: { type: 'string' } },
            },
          },
          404: error('NotFound'),
        },
      },
    },
    '/': {
      get: {
        tags: ['Dashboard'],
        summary: 'The web dashboard (built into the package; it uses only this API)',
        responses: {
          200: {
            description: 'The page',
            content: { 'text/html': { schema: { type: 'string' } } },
          },
          503: errorResponse('The dashboard is not built (`npm run build`)'),
        },
      },
    },
  },
};
