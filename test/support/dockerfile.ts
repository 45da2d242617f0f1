import fs from 'node:fs';

/** One instruction of a Dockerfile: the keyword (upper case) and the rest of its line. */
interface Instruction {
  keyword: string;
  args: string;
}

/** A build stage: its FROM line's image and name, and its instructions after FROM. */
export interface Stage {
  image: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** The stages of a Dockerfile: comments dropped, `\` continuations joined. */
export function parseDockerfile(file: string): Stage[] {
  const lines = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => !/^\s*#/.test(line));
  const stages: Stage[] = [];
  let logical = '';
  for (const line of lines) {
    logical += line.replace(/\\\s*$/, ' ');
    if (/\\\s*$/.test(line)) continue;
    const match = /^\s*([A-Za-z]+)\s+(.*?)\s*$/.exec(logical);
    logical = '';
    if (!match) continue;
    const keyword = match[1].toUpperCase();
    if (keyword === 'FROM') {
      const from = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(match[2]);
      if (!from) throw new Error(`FROM ${match[2]}: not understood`);
      stages.push({ image: from[1], name: from[2], instructions: [] });
    } else {
      if (stages.length === 0) throw new Error(`${keyword} before FROM`);
      stages.at(-1)!.instructions.push({ keyword, args: match[2] });
    }
  }
  return stages;
}

/** `KEY=value KEY2=value2` (ENV's form without quotes), as pairs. */
export function envPairs(args: string): [string, string][] {
  return args.split(/\s+/).map((pair) => {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new Error(`ENV ${args}: only the KEY=value form is understood`);
    return [pair.slice(0, eq), pair.slice(eq + 1)];
  });
}

/** Leading `--name=value` options of COPY or HEALTHCHECK, and what follows them. */
export function options(args: string): { flags: Record<string, string>; rest: string } {
  const flags: Record<string, string> = {};
  let rest = args;
  for (let match; (match = /^--([a-z-]+)=(\S+)\s+/.exec(rest));) {
    flags[match[1]] = match[2];
    rest = rest.slice(match[0].length);
  }
  return { flags, rest };
}
