import fs from 'node:fs';

/**
 * A binary from Debian's packages, or undefined. Under CI=true a missing one is an error
 * (.ci/run installs them); elsewhere the test skips, saying what to install.
 */
export function debianBinary(
  name: string,
  candidates: string[],
  debianPackage = name,
): string | undefined {
  const found = candidates.find((file) => fs.existsSync(file));
  const install = `apt-get update && apt-get install -y ${debianPackage}`;
  if (!found && process.env.CI === 'true') {
    throw new Error(`${name} is missing under CI=true: .ci/run installs it (${install})`);
  }
  if (!found) process.stderr.write(`SKIPPED: ${name} is not installed; run: ${install}\n`);
  return found;
}
