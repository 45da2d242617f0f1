import { describe, expect, test } from '@jest/globals';
import path from 'node:path';
import { ConfigError, DEFAULTS, loadConfig } from '../../server/config.js';
import { Messages } from '../../server/errors.js';
import { redactPath } from '../../server/middleware/request-log.js';

describe('configuration', () => {
  test('defaults', () => {
    expect(loadConfig({}, {})).toEqual({
      port: 3080,
      host: '0.0.0.0',
      dataDir: path.resolve('./data'),
      maxUploadBytes: 8 * 1024 * 1024,
      historyDepth: DEFAULTS.historyDepth,
      logRequests: true,
      logFormat: 'text',
      workers: 1,
      trustProxy: false,
      downloadIdleTimeoutSeconds: 120,
      deviceFailureLimit: 100,
      mqtt: null,
      metricsToken: null,
      storage: null,
      database: null,
      silentAfterSeconds: 86400,
    });
    expect(loadConfig({ 'trust-proxy': true, 'download-idle-timeout': '5' }, {})).toMatchObject({
      trustProxy: true,
      downloadIdleTimeoutSeconds: 5,
    });
    expect(
      loadConfig({}, { OTA_TRUST_PROXY: 'true', OTA_DOWNLOAD_IDLE_TIMEOUT: '30' }),
    ).toMatchObject({ trustProxy: true, downloadIdleTimeoutSeconds: 30 });
  });

  test('environment variables, and flags winning over them', () => {
    const env = {
      OTA_PORT: '8080',
      OTA_HOST: '127.0.0.1',
      OTA_DATA_DIR: '/srv/ota',
      OTA_MAX_UPLOAD_SIZE: '4MiB',
      OTA_HISTORY: '10',
      OTA_METRICS_TOKEN: 'from-env',
    };
    expect(loadConfig({}, env)).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      dataDir: '/srv/ota',
      maxUploadBytes: 4 * 1024 * 1024,
      historyDepth: 10,
      metricsToken: 'from-env',
    });
    expect(
      loadConfig(
        { port: '9090', data: '/tmp/x', 'max-upload-size': '512k', 'metrics-token': 'flag' },
        env,
      ),
    ).toMatchObject({
      port: 9090,
      metricsToken: 'flag',
      dataDir: '/tmp/x',
      maxUploadBytes: 512 * 1024,
    });
  });

  test.each([
    [{ OTA_PORT: 'abc' }, 'OTA_PORT'],
    [{ OTA_PORT: '70000' }, 'OTA_PORT'],
    [{ OTA_PORT: '-1' }, 'OTA_PORT'],
    [{ OTA_HOST: 'bad host!' }, 'OTA_HOST'],
    [{ OTA_MAX_UPLOAD_SIZE: 'huge' }, 'OTA_MAX_UPLOAD_SIZE'],
    [{ OTA_MAX_UPLOAD_SIZE: '10' }, 'OTA_MAX_UPLOAD_SIZE'],
    [{ OTA_HISTORY: '0' }, 'OTA_HISTORY'],
    [{ OTA_HISTORY: 'five' }, 'OTA_HISTORY'],
    [{ OTA_REQUEST_LOG: 'maybe' }, 'OTA_REQUEST_LOG'],
    [{ OTA_LOG_FORMAT: 'xml' }, 'OTA_LOG_FORMAT'],
    [{ OTA_TRUST_PROXY: 'yes please' }, 'OTA_TRUST_PROXY'],
    [{ OTA_DOWNLOAD_IDLE_TIMEOUT: '0' }, 'OTA_DOWNLOAD_IDLE_TIMEOUT'],
    [{ OTA_DOWNLOAD_IDLE_TIMEOUT: '2m' }, 'OTA_DOWNLOAD_IDLE_TIMEOUT'],
    [{ OTA_MQTT_URL: 'not a url' }, 'OTA_MQTT_URL'],
    [{ OTA_MQTT_URL: 'http://broker:1883' }, 'OTA_MQTT_URL'],
    [{ OTA_MQTT_URL: 'mqtt://broker:1883/path' }, 'OTA_MQTT_URL'],
    [{ OTA_MQTT_URL: 'mqtt://:secret@broker' }, 'OTA_MQTT_URL'],
    [{ OTA_MQTT_URL: 'mqtt://broker:99999' }, 'OTA_MQTT_URL'],
    [{ OTA_MQTT_STATUS_TOPIC: '/{user}/status' }, 'OTA_MQTT_STATUS_TOPIC'],
    [{ OTA_MQTT_STATUS_TOPIC: '/{user}/x{device}/status' }, 'OTA_MQTT_STATUS_TOPIC'],
    [{ OTA_MQTT_STATUS_TOPIC: '/{user}/+/{device}' }, 'OTA_MQTT_STATUS_TOPIC'],
    [{ OTA_MQTT_GROUP_TRIGGER_TOPIC: '/{user}/{device}/go' }, 'OTA_MQTT_GROUP_TRIGGER_TOPIC'],
    [
      { OTA_MQTT_DEVICE_TRIGGER_TOPIC: '/{user}/{device}/{device}' },
      'OTA_MQTT_DEVICE_TRIGGER_TOPIC',
    ],
    [{ OTA_DATABASE_URL: 'not a url' }, 'OTA_DATABASE_URL'],
    [{ OTA_DATABASE_URL: 'mysql://db/ota' }, 'OTA_DATABASE_URL'],
    [{ OTA_DATABASE_URL: 'postgres://db.example.com' }, 'OTA_DATABASE_URL'],
    [{ OTA_DATABASE_URL: 'postgres://:secret@db/ota' }, 'OTA_DATABASE_URL'],
    [{ OTA_METRICS_TOKEN: 'has space' }, 'OTA_METRICS_TOKEN'],
    [{ OTA_METRICS_TOKEN: 'bad\u00e9' }, 'OTA_METRICS_TOKEN'],
  ])('%p is refused with a message naming it', (env, name) => {
    expect(() => loadConfig({}, env)).toThrow(ConfigError);
    expect(() => loadConfig({}, env)).toThrow(name);
  });

  test('--database: PostgreSQL URLs, the password never shown', () => {
    const config = loadConfig(
      {},
      {
        OTA_DATABASE_URL: 'postgresql://ota:s%40cret@db.example.com:5433/registry?sslmode=require',
      },
    );
    expect(config.database).toEqual({
      url: 'postgresql://ota:s%40cret@db.example.com:5433/registry?sslmode=require',
      displayUrl: 'postgresql://ota@db.example.com:5433/registry?sslmode=require',
    });
    expect(
      loadConfig({ database: 'postgres://a@h/flag' }, { OTA_DATABASE_URL: 'postgres://b@h/env' })
        .database?.url,
    ).toBe('postgres://a@h/flag');
    let message = '';
    try {
      loadConfig({ database: 'mysql://root:hunter2@db/ota' }, {});
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe(Messages.databaseUrlInvalid('--database', 'starts with mysql://'));
    expect(message).not.toContain('hunter2');
  });

  test('--mqtt: the broker URL with its credentials, a display URL without the password, IoTaaP OS topics', () => {
    const config = loadConfig(
      {},
      { OTA_MQTT_URL: 'mqtts://registry:s%40cret@broker.example.com:8883' },
    );
    expect(config.mqtt).toEqual({
      url: 'mqtts://registry:s%40cret@broker.example.com:8883',
      displayUrl: 'mqtts://registry@broker.example.com:8883',
      topics: {
        deviceTrigger: '/{user}/devices/{device}/update-trigger',
        groupTrigger: '/{user}/groups/{group}/update-trigger',
        updateResponse: '/{user}/devices/{device}/update-response',
        status: '/{user}/devices/{device}/status',
      },
    });
    expect(
      loadConfig({ mqtt: 'mqtt://127.0.0.1' }, { OTA_MQTT_URL: 'mqtt://other' }).mqtt?.url,
    ).toBe('mqtt://127.0.0.1');
  });

  test('topic templates for other firmware', () => {
    const config = loadConfig(
      { mqtt: 'mqtt://127.0.0.1', 'mqtt-status-topic': 'fleet/{user}/{device}/state' },
      { OTA_MQTT_DEVICE_TRIGGER_TOPIC: 'fleet/{user}/{device}/ota' },
    );
    expect(config.mqtt?.topics).toMatchObject({
      deviceTrigger: 'fleet/{user}/{device}/ota',
      status: 'fleet/{user}/{device}/state',
    });
  });

  test.each([
    ['x'.repeat(201), Messages.topicLength],
    ['fleet/+/{user}/{device}', Messages.topicWildcard],
    ['fleet/{user}/status', Messages.topicPlaceholderOnce('device')],
    ['fleet/{user}/{device}/{device}', Messages.topicPlaceholderOnce('device')],
    ['{user}/{device}/{mac}', Messages.topicPlaceholderUnknown('{mac}', ['user', 'device'])],
    ['{user}/{device}/x{user}', Messages.topicPlaceholderLevel],
  ])('status topic template "%s" is refused: %s', (template, problem) => {
    const flags = { mqtt: 'mqtt://127.0.0.1', 'mqtt-status-topic': template };
    expect(() => loadConfig(flags, {})).toThrow(
      new ConfigError(Messages.topicTemplateInvalid('--mqtt-status-topic', template, problem)),
    );
  });

  test('a broker password is never echoed in the error', () => {
    expect(() => loadConfig({}, { OTA_MQTT_URL: 'http://u:hunter2@broker' })).toThrow(
      /^OTA_MQTT_URL starts with http:\/\/: expected mqtt:\/\//,
    );
    expect(() => loadConfig({}, { OTA_MQTT_URL: 'http://u:hunter2@broker' })).not.toThrow(
      /hunter2/,
    );
  });

  test('a bad flag is named as the flag', () => {
    expect(() => loadConfig({ port: 'x' }, { OTA_PORT: '1' })).toThrow('--port');
  });
});

describe('request log redaction', () => {
  test.each([
    [
      '/v1/ota/device/download/5e1b57808711f904f5df4badAbCdEf123456',
      '/v1/ota/device/download/5e1b57808711f904f5df4bad[redacted]',
    ],
    [
      '/v1/ota/group/download/5e1b57808711f904f5df4badAbCdEf123456?x=1',
      '/v1/ota/group/download/5e1b57808711f904f5df4bad[redacted]?x=1',
    ],
    ['/v1/ota/device/download/short', '/v1/ota/device/download/short[redacted]'],
    [
      '/v1/devices?token=abc&apiKey=def&limit=1',
      '/v1/devices?token=[redacted]&apiKey=[redacted]&limit=1',
    ],
    [
      '/v1/ota/device/latest/5e1b57808711f904f5df4bad',
      '/v1/ota/device/latest/5e1b57808711f904f5df4bad',
    ],
  ])('%s', (url, logged) => {
    expect(redactPath(url)).toBe(logged);
  });
});
