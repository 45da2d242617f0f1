import { readFile } from 'node:fs/promises';
import type { VersionSource } from './settings.js';

/**
 * The tag a workflow run is for, read from the runner's environment rather than through
 * @actions/github, which would bundle a whole REST client to read two variables.
 * A release event names its tag in the payload (`release.tag_name`); a tag push in GITHUB_REF.
 */
export async function githubVersionSource(
  env: Readonly<Record<string, string | undefined>>,
): Promise<VersionSource> {
  const event = env['GITHUB_EVENT_NAME'];
  const ref = env['GITHUB_REF'];
  const missing =
    `this run was started by ${event ?? 'an unknown event'} on ${ref ?? 'no ref'}, not a tag. ` +
    "Start the workflow from a tag (on: push: tags: ['v*'], then push one like v1.2.7) or a release, or set the version input.";

  if (event === 'release' && env['GITHUB_EVENT_PATH']) {
    const tag = await releaseTag(env['GITHUB_EVENT_PATH']);
    if (tag !== undefined) return { tag, missing };
  }
  if (ref?.startsWith('refs/tags/')) return { tag: ref.slice('refs/tags/'.length), missing };
  if (env['GITHUB_REF_TYPE'] === 'tag' && env['GITHUB_REF_NAME']) {
    return { tag: env['GITHUB_REF_NAME'], missing };
  }
  return { missing };
}

async function releaseTag(eventPath: string): Promise<string | undefined> {
  try {
    const payload = JSON.parse(await readFile(eventPath, 'utf8')) as {
      release?: { tag_name?: unknown };
    };
    const tag = payload.release?.tag_name;
    return typeof tag === 'string' && tag !== '' ? tag : undefined;
  } catch {
    return undefined;
  }
}
