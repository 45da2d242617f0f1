import Router from '@koa/router';
import type { Context } from 'koa';
import { Messages, badRequest } from '../errors.js';
import { firmwareUpload, type UploadedFile } from '../http/firmware-upload.js';
import { parseListQuery } from '../http/list-query.js';
import { sendFirmware } from '../http/send-firmware.js';
import { OBJECT_ID } from '../ids.js';
import { authenticate } from '../middleware/authenticate.js';
import type { User } from '../storage/users.js';
import { isValidVersion } from '../versions.js';
import { otaView } from '../views.js';
import type { AppContext } from '../context.js';

const REQUIRED_FIELDS = ['device', 'token', 'version'] as const;

/** IoTaaP's "Device OTA Update" endpoints; `latest` and `download` are what devices call. */
export function otaDeviceRoutes({ auth, files, ota, config }: AppContext): Router {
  const router = new Router({ prefix: '/v1/ota/device' });
  const requireUser = authenticate(auth);

  router.get('/', requireUser, (ctx) => {
    const query = parseListQuery(ctx.query);
    const page = ota.listCurrent(user(ctx).id, query);
    ctx.body = {
      otas: page.rows.map(otaView),
      recordsTotal: page.total,
      recordsFiltered: page.filtered,
      draw: query.draw,
    };
  });

  router.post('/', requireUser, firmwareUpload(files, config.maxUploadBytes), (ctx) => {
    // The order of these checks is part of the contract (API.md).
    const fields = (ctx.request.body ?? {}) as Record<string, unknown>;
    for (const name of REQUIRED_FIELDS) {
      if (typeof fields[name] !== 'string' || fields[name] === '') throw badRequest(Messages.mandatoryField(name));
    }
    const { device, token, version } = fields as Record<(typeof REQUIRED_FIELDS)[number], string>;
    const firmware = ctx.state.firmware as UploadedFile | undefined;
    if (!firmware) throw badRequest(Messages.noFileUploaded);
    if (!OBJECT_ID.test(device)) throw badRequest(Messages.deviceIdInvalid);
    if (!isValidVersion(version)) throw badRequest(Messages.versionInvalid(version));
    if ('error' in firmware.image) throw badRequest(firmware.image.error);

    const outcome = ota.deploy({
      owner: user(ctx).id,
      deviceId: device,
      token,
      version,
      firmware: { ...firmware, image: firmware.image },
    });
    const deployed = outcome.result === 'deployed';
    ctx.status = deployed ? 201 : 200;
    ctx.body = {
      message: deployed ? Messages.firmwareDeployed : Messages.firmwareAlreadyDeployed,
      ota: otaView(outcome.ota),
    };
  });

  router.get('/latest/:id', (ctx) => {
    // IoTaaP OS parses this into a 128-byte buffer: exactly {"ver":"..."}, nothing else.
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { ver: ota.latestVersion(ctx.params.id) };
  });

  router.get('/download/:idAndToken', async (ctx) => {
    await sendFirmware(ctx, await ota.openDownload(ctx.params.idAndToken));
  });

  return router;
}

function user(ctx: Context): User {
  return ctx.state.user as User;
}
