import { parseChip } from '../../contract/chips.js';
import { Messages } from '../errors.js';
import { updateState } from '../services/device-service.js';
import { parse, printer, requireString, UsageError, withContext } from './args.js';

/** `ota-registry device add --user <email> [...]`, `ota-registry device list --user <email>` */
export async function deviceCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'add') {
    const { values } = parse(
      rest,
      {
        user: { type: 'string' },
        name: { type: 'string' },
        id: { type: 'string' },
        token: { type: 'string' },
        chip: { type: 'string' },
      },
      0,
    );
    const email = requireString(values.user, '--user');
    if ((values.id === undefined) !== (values.token === undefined)) {
      throw new UsageError(Messages.idAndTokenTogether);
    }
    const print = printer(values.json);
    await withContext(values, ({ auth, devices }) => {
      const owner = auth.userByEmail(email);
      const imported =
        values.id !== undefined ? { id: values.id, token: values.token! } : undefined;
      const chip = values.chip === undefined ? undefined : parseChip(values.chip);
      if (values.chip !== undefined && !chip) {
        throw new UsageError(Messages.chipFlagInvalid(values.chip));
      }
      const { device, token } = devices.create(owner.id, values.name, imported, chip);
      print(
        {
          _id: device.id,
          name: device.name,
          owner: device.owner,
          ...(device.chip !== null ? { chip: device.chip } : {}),
          token,
        },
        `Device ${device.name}\n  id:    ${device.id}\n  token: ${token} (shown once)`,
      );
    });
  } else if (sub === 'list') {
    const { values } = parse(rest, { user: { type: 'string' } }, 0);
    const email = requireString(values.user, '--user');
    const print = printer(values.json);
    await withContext(values, ({ auth, devices }) => {
      const owner = auth.userByEmail(email);
      // version: what the device is served (its group's firmware when it is in a group that has one).
      const list = devices.all(owner.id).map((device) => ({
        _id: device.id,
        name: device.name,
        created_at: device.createdAt,
        last_contact: device.lastContact,
        version: device.servedVersion,
        chip: device.chip,
        group: device.groupId,
        running_version: device.runningVersion,
        update_state: updateState(device),
      }));
      const human = list.length
        ? list.map((d) => `${d._id}  ${d.version ?? '-'}\t${d.name}`).join('\n')
        : `No devices for ${email}.`;
      print({ devices: list }, human);
    });
  } else {
    throw new UsageError(Messages.unknownSubcommand('device', sub, ['add', 'list']));
  }
}
