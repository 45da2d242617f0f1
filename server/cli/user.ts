import { Messages } from '../errors.js';
import { accountView } from '../views.js';
import { parse, printer, UsageError, withContext } from './args.js';
import { readStdin } from './stdin.js';

/**
 * `ota-registry user add <email> [--password-stdin] [--role admin|user] [--mqtt-user NAME]`,
 * `ota-registry user set <email> --mqtt-user NAME` (an empty NAME removes it).
 */
export async function userCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'add') return userAdd(rest);
  if (sub === 'set') return userSet(rest);
  throw new UsageError(Messages.unknownSubcommand('user', sub, ['add', 'set']));
}

async function userAdd(args: string[]): Promise<void> {
  const { values, positionals } = parse(
    args,
    {
      'password-stdin': { type: 'boolean', default: false },
      role: { type: 'string', default: 'user' },
      'mqtt-user': { type: 'string' },
    },
    1,
  );
  const email = positionals[0];
  if (!email) throw new UsageError(Messages.argumentMissing('user add', 'an email address'));
  if (values.role !== 'admin' && values.role !== 'user')
    throw new UsageError(Messages.roleInvalid(values.role));
  const password = values['password-stdin'] ? (await readStdin()).replace(/\r?\n$/, '') : null;
  const print = printer(values.json);
  await withContext(values, async ({ auth }) => {
    const { user, apiKey } = await auth.addUser(
      email,
      values.role as 'admin' | 'user',
      password,
      values['mqtt-user'] ?? null,
    );
    print(
      {
        id: user.id,
        email: user.email,
        role: user.role,
        ...(user.mqttUser !== null ? { mqtt_user: user.mqttUser } : {}),
        apiKey,
      },
      `Created ${user.role} ${user.email} (${user.id}).\nAPI key (shown once): ${apiKey}`,
    );
  });
}

async function userSet(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, { 'mqtt-user': { type: 'string' } }, 1);
  const email = positionals[0];
  if (!email) throw new UsageError(Messages.argumentMissing('user set', 'an email address'));
  const mqttUser = values['mqtt-user'];
  if (mqttUser === undefined) throw new UsageError(Messages.flagRequired('--mqtt-user'));
  const print = printer(values.json);
  await withContext(values, ({ auth }) => {
    const user = auth.setMqttUser(auth.userByEmail(email), mqttUser);
    print(
      accountView(user),
      user.mqttUser === null
        ? `${user.email} has no MQTT user now.`
        : `${user.email}: MQTT user ${user.mqttUser} (a running registry subscribes within seconds).`,
    );
  });
}
