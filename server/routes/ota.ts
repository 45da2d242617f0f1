import Router from '@koa/router';
import type { Context } from 'koa';
import { Messages, badRequest } from '../errors.js';
import { deviceReport } from './parsers/device-report.js';
import { firmwareUpload, type UploadedFile } from '../middleware/firmware-upload.js';
import { parseForce, parseTrigger } from './parsers/force.js';
import { jsonBody } from '../middleware/json-body.js';
import { parseListQuery } from './parsers/list-query.js';
import { sendFirmware } from '../http/send-firmware.js';
import { OBJECT_ID } from '../../contract/ids.js';
import { authenticate } from '../middleware/authenticate.js';
import { countUploads } from '../middleware/count-uploads.js';
import type { TargetKind } from '../storage/sqlite/otas.js';
import type { User } from '../storage/sqlite/users.js';
import { isValidVersion } from '../../contract/version.js';
import { listView, otaView } from '../views.js';
import type { AppContext } from '../context.js';
import { parseRolloutPlan } from './parsers/rollout-plan.js';
import type { RolloutPlan } from '../services/rollout-service.js';

const ID_INVALID = { device: Messages.deviceIdInvalid, group: Messages.groupIdInvalid } as const;

/**
 * IoTaaP's OTA endpoints for one kind of target, `/v1/ota/device` or `/v1/ota/group` (the same
 * rules, with the field `device` or `group`). `latest` and `download` are what devices call.
 */
export function otaRoutes(
  { auth, files, ota, push, rollouts, config, metrics }: AppContext,
  kind: TargetKind,
): Router {
  const router = new Router({ prefix: `/v1/ota/${kind}` });
  const requireUser = authenticate(auth);
  const requiredFields = [kind, 'token', 'version'] as const;

  router.get('/', requireUser, (ctx) => {
    const query = parseListQuery(ctx.query);
    const page = ota.listCurrent(user(ctx).id, query, kind);
    ctx.body = listView('otas', page, otaView, query.draw);
  });

  /**
   * Everything after the form's own fields: the checks in the contract's order, then the deploy
   * and the trigger. `token` null: the owner's upload by URL, which needs no device token.
   */
  async function deployUpload(ctx: Context, targetId: string, token: string | null) {
    const fields = (ctx.request.body ?? {}) as Record<string, unknown>;
    const version = fields.version as string;
    const firmware = ctx.state.firmware as UploadedFile | undefined;
    if (!firmware) throw badRequest(Messages.noFileUploaded);
    if (!OBJECT_ID.test(targetId)) throw badRequest(ID_INVALID[kind]);
    if (!isValidVersion(version)) throw badRequest(Messages.versionInvalid(version));
    if ('error' in firmware.image) throw badRequest(firmware.image.error);
    const force = parseForce(fields.force);
    const trigger = parseTrigger(fields.trigger);
    const plan = uploadRolloutPlan(kind, fields);
    const owner = user(ctx);
    if (kind === 'group') rollouts.beforeUpload(owner.id, targetId, version, plan !== undefined);
    const before = plan && ota.history(owner.id, kind, targetId).current;
    const outcome = ota.deploy({
      owner: owner.id,
      kind,
      targetId,
      token,
      version,
      force,
      firmware: { ...firmware, image: firmware.image },
    });
    const deployed = outcome.result === 'deployed';
    // The upload's own trigger (below) starts it: the rollout does not trigger again.
    // A re-run of the same job (same version, same bytes) follows the rollout it started.
    if (plan && !rollouts.follows(targetId, version, deployed)) {
      rollouts.start(owner.id, targetId, version, plan, {
        previousVersion: deployed ? before?.version : undefined,
        trigger: false,
      });
    }
    // After the new version is stored and served, as IoTaaP's upload does; a 200 (same bytes)
    // changes nothing, so it tells no device to look.
    const pushed = deployed
      ? await push.afterUpload(owner, kind, targetId, trigger)
      : { triggered: false };
    ctx.status = deployed ? 201 : 200;
    ctx.body = {
      message: deployed ? Messages.firmwareDeployed : Messages.firmwareAlreadyDeployed,
      ota: otaView(outcome.ota),
      triggered: pushed.triggered,
      ...(pushed.error !== undefined ? { trigger_error: pushed.error } : {}),
      ...(plan ? { rollout: rollouts.view(owner.id, targetId) } : {}),
    };
  }

  const receive = firmwareUpload(files, config.maxUploadBytes);
  router.post('/', requireUser, countUploads(metrics), receive, async (ctx) => {
    // The order of these checks is part of the contract (API.md).
    const fields = (ctx.request.body ?? {}) as Record<string, unknown>;
    for (const name of requiredFields) {
      if (typeof fields[name] !== 'string' || fields[name] === '') {
        throw badRequest(Messages.mandatoryField(name));
      }
    }
    await deployUpload(ctx, fields[kind] as string, fields.token as string);
  });

  // The owner's upload (the dashboard's): the target in the URL, no device token, the same
  // pipeline and guards. Only its owner's session or API key reaches it.
  router.post('/:id/firmware', requireUser, countUploads(metrics), receive, async (ctx) => {
    const { version } = (ctx.request.body ?? {}) as Record<string, unknown>;
    if (typeof version !== 'string' || version === '') {
      throw badRequest(Messages.mandatoryField('version'));
    }
    await deployUpload(ctx, ctx.params.id, null);
  });

  router.post('/:id/trigger', requireUser, async (ctx) => {
    const { topic } = await push.trigger(user(ctx), kind, ctx.params.id);
    ctx.status = 202;
    ctx.body = { message: Messages.updateTriggered, topic };
  });

  // Registered before /:id/history and /:id/rollback so that no device URL is ever shadowed.
  // startServer answers these GETs before Koa (http/poll-fast-path.ts); this route is the
  // reference it is tested against, and serves apps built with createApp alone.
  router.get('/latest/:id', (ctx) => {
    // IoTaaP OS parses this into a 128-byte buffer: exactly {"ver":"..."}, nothing else.
    metrics.countPoll();
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { ver: ota.latestVersion(ctx.params.id, kind) };
  });

  router.get('/download/:idAndToken', async (ctx) => {
    const report = deviceReport(ctx);
    const download = await ota.openDownload(
      ctx.params.idAndToken,
      kind,
      report,
      ctx.method === 'HEAD',
    );
    await sendFirmware(ctx, download, report, config.downloadIdleTimeoutSeconds * 1000);
    if (ctx.method === 'GET' && (ctx.status === 200 || ctx.status === 206)) {
      metrics.countDownload(ctx.length!);
    }
  });

  router.get('/:id/history', requireUser, (ctx) => {
    const { current, kept } = ota.history(user(ctx).id, kind, ctx.params.id);
    ctx.body = {
      current: current?.version ?? null,
      history: kept.map((entry) => ({ ...otaView(entry), current: entry.id === current?.id })),
    };
  });

  router.post('/:id/rollback', requireUser, jsonBody, (ctx) => {
    const { version, force } = ctx.request.body as Record<string, unknown>;
    if (typeof version !== 'string' || version === '') {
      throw badRequest(Messages.mandatoryField('version'));
    }
    // A rollout decides what the group serves until it completes or is aborted.
    if (kind === 'group') rollouts.beforeUpload(user(ctx).id, ctx.params.id, null, false);
    const served = ota.rollback(user(ctx).id, kind, ctx.params.id, version, parseForce(force));
    ctx.body = { message: Messages.rolledBack(served.version), ota: otaView(served) };
  });

  return router;
}

/**
 * A group upload's `rollout=5,25,100` (with `rollout_advance`, `rollout_advance_at`,
 * `rollout_halt_after_failures`): the new version goes out as a staged rollout.
 */
function uploadRolloutPlan(
  kind: TargetKind,
  fields: Record<string, unknown>,
): RolloutPlan | undefined {
  if (fields.rollout === undefined || fields.rollout === '') return undefined;
  if (kind !== 'group') throw badRequest(Messages.rolloutGroupsOnly);
  return parseRolloutPlan({
    phases: fields.rollout,
    advance: fields.rollout_advance,
    advance_at: fields.rollout_advance_at,
    halt_after_failures: fields.rollout_halt_after_failures,
  });
}

function user(ctx: Context): User {
  return ctx.state.user as User;
}
