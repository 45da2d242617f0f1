import { parse, printer, UsageError, withContext } from './args.js';
import { readStdin } from './stdin.js';

/** `ota-registry user add <email> [--password-stdin] [--role admin|user]` */
export async function userCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub !== 'add')
    throw new UsageError(`unknown command "user ${sub ?? ''}" (expected: user add)`);
  const { values, positionals } = parse(
    rest,
    {
      'password-stdin': { type: 'boolean', default: false },
      role: { type: 'string', default: 'user' },
    },
    1,
  );
  const email = positionals[0];
  if (!email) throw new UsageError('user add needs an email address');
  if (values.role !== 'admin' && values.role !== 'user')
    throw new UsageError(`--role must be admin or user, not "${values.role}"`);
  const password = values['password-stdin'] ? (await readStdin()).replace(/\r?\n$/, '') : null;
  const print = printer(values.json);
  await withContext(values.data, async ({ auth }) => {
    const { user, apiKey } = await auth.addUser(email, values.role as 'admin' | 'user', password);
    print(
      { id: user.id, email: user.email, role: user.role, apiKey },
      `Created ${user.role} ${user.email} (${user.id}).\nAPI key (shown once): ${apiKey}`,
    );
  });
}
