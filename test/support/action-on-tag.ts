import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { runAction, tempDir } from './fake-pio-harness.js';
import { createPioProject, installFakePio } from './fake-pio.js';

/**
 * The Action as the runner starts it for a pushed tag `v<version>`: a PlatformIO project whose
 * stand-in `pio` builds `image`, the inputs given (registry-url and api-token first), and the
 * GitHub files it writes. Returns the run, its outputs file and its job summary.
 */
export async function runActionOnTag(
  image: Buffer,
  version: string,
  inputs: Record<string, string>,
) {
  const dir = await tempDir('action-on-tag');
  const project = path.join(dir, 'project');
  await createPioProject(project, ['esp32dev']);
  const pio = await installFakePio(path.join(dir, 'tools'), { image });
  const output = path.join(dir, 'github_output');
  const summary = path.join(dir, 'step_summary');
  await writeFile(output, '');
  await writeFile(summary, '');
  const result = await runAction({
    cwd: project,
    pathPrefix: pio.binDir,
    inputs,
    github: {
      GITHUB_ACTIONS: 'true',
      GITHUB_EVENT_NAME: 'push',
      GITHUB_REF: `refs/tags/v${version}`,
      GITHUB_REF_NAME: `v${version}`,
      GITHUB_REF_TYPE: 'tag',
      GITHUB_OUTPUT: output,
      GITHUB_STEP_SUMMARY: summary,
      GITHUB_WORKSPACE: project,
    },
  });
  return {
    result,
    outputs: await readFile(output, 'utf8'),
    summary: await readFile(summary, 'utf8'),
  };
}
