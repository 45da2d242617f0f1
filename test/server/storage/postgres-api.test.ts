/**
 * The API tests, run once more with every registry's metadata in PostgreSQL (a fresh database
 * each: the machine's server, or PGlite where none answers; the output says which) and its
 * firmware in S3 (s3rver through the real AWS SDK): the engines operators run beyond one host.
 * The answers must be the same as on SQLite and local files.
 */
import { registriesOnPostgres } from '../../support/postgres.js';
import { registriesOnS3 } from '../../support/s3.js';

registriesOnPostgres();
registriesOnS3();
await import('../ota-device.test.js');
await import('../fleet-download.test.js');
await import('../upload-validation.test.js');
await import('../devices.test.js');
await import('../groups.test.js');
await import('../auth.test.js');
await import('../fleet-checkin.test.js');
await import('../fleet-history.test.js');
await import('../fleet-chip.test.js');
await import('../login-throttle.test.js');
await import('../rollout-api.test.js');
await import('../dashboard-api.test.js');
await import('../ota-client-guard.test.js');
await import('../metrics.test.js');
