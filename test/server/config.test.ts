import { describe, expect, test } from '@jest/globals';
import path from 'node:path';
import { ConfigError, DEFAULTS, loadConfig } from '../../server/config.js';
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
      metricsToken: null,
    });
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
    [{ OTA_METRICS_TOKEN: 'has space' }, 'OTA_METRICS_TOKEN'],
    [{ OTA_METRICS_TOKEN: 'bad\u00e9' }, 'OTA_METRICS_TOKEN'],
  ])('%p is refused with a message naming it', (env, name) => {
    expect(() => loadConfig({}, env)).toThrow(ConfigError);
    expect(() => loadConfig({}, env)).toThrow(name);
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
