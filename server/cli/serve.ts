import { startServer } from '../app.js';
import { loadConfig, type ConfigFlags } from '../config.js';
import { createContext } from '../context.js';

/**
 * `ota-registry serve`: validates the configuration, opens the data directory, removes
 * uploads a crash cut short, listens, and on SIGTERM/SIGINT lets in-flight requests finish
 * before exiting 0. Resolves with the exit code once the server has stopped.
 */
export async function runServe(flags: ConfigFlags & { data?: string }): Promise<number> {
  const config = loadConfig(flags);
  const context = createContext(config);
  const leftovers = context.files.removeLeftoverTempFiles();
  const running = await startServer(context);

  const log = (line: string) => process.stdout.write(line + '\n');
  log(`ota-registry listening on ${running.url} (data: ${config.dataDir})`);
  if (leftovers > 0) log(`Removed ${leftovers} unfinished upload(s) left by an earlier run.`);
  if (!context.auth.hasUsers()) {
    log('No users yet. Create one (it prints an API key) with:');
    log(`  npx ota-registry user add you@example.com --data ${shellQuote(config.dataDir)}`);
  }

  return new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      log(`${signal}: finishing in-flight requests...`);
      void running.close().then(() => resolve(0));
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

function shellQuote(text: string): string {
  return /^[\w./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
