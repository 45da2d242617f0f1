import { Messages, notFound } from '../errors.js';
import { parse, printer, requireString, UsageError, withContext } from './args.js';

/** `ota-registry key create --user <email>`, `ota-registry key revoke <apiKey>` */
export async function keyCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'create') {
    const { values } = parse(rest, { user: { type: 'string' } }, 0);
    const email = requireString(values.user, '--user');
    const print = printer(values.json);
    await withContext(values, ({ auth }) => {
      const apiKey = auth.createApiKey(auth.userByEmail(email));
      print({ apiKey }, `API key for ${email} (shown once): ${apiKey}`);
    });
  } else if (sub === 'revoke') {
    const { values, positionals } = parse(rest, {}, 1);
    const apiKey = positionals[0];
    if (!apiKey) throw new UsageError(Messages.argumentMissing('key revoke', 'the API key'));
    const print = printer(values.json);
    await withContext(values, ({ auth }) => {
      if (!auth.revokeApiKey(apiKey)) throw notFound(Messages.noSuchApiKey);
      print({ revoked: true }, 'API key revoked.');
    });
  } else {
    throw new UsageError(Messages.unknownSubcommand('key', sub, ['create', 'revoke']));
  }
}
