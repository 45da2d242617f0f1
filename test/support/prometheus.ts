/** One sample of a Prometheus text exposition. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  samples: Sample[];
  /** `# TYPE` of each metric family. */
  types: Map<string, string>;
  /** The value of the one sample with this name and exactly these labels; throws otherwise. */
  value(name: string, labels?: Record<string, string>): number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/gy;

/**
 * Parses the Prometheus text format (version 0.0.4) strictly: every line is a `# HELP`, a
 * `# TYPE`, or a sample of a family whose TYPE came before it; anything else throws.
 */
export function parseExposition(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      if (types.has(type[1])) throw new Error(`TYPE of ${type[1]} given twice`);
      types.set(type[1], type[2]);
      continue;
    }
    if (/^# HELP \S+ /.test(line)) continue;
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    const [, name, labelText = '', raw] = match;
    const family = name.replace(/_(bucket|sum|count)$/, '');
    if (!types.has(name) && !types.has(family)) throw new Error(`${name} has no TYPE before it`);
    const labels: Record<string, string> = {};
    LABEL.lastIndex = 0;
    while (LABEL.lastIndex < labelText.length) {
      const label = LABEL.exec(labelText);
      if (!label) throw new Error(`malformed labels: ${JSON.stringify(line)}`);
      labels[label[1]] = label[2];
    }
    // As Prometheus reads them (Go's ParseFloat): NaN in any case (prom-client writes "Nan").
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    if (Number.isNaN(value) && raw.toLowerCase() !== 'nan') {
      throw new Error(`bad value: ${JSON.stringify(line)}`);
    }
    samples.push({ name, labels, value });
  }
  return {
    samples,
    types,
    value(name, labels = {}) {
      const found = samples.filter(
        (s) =>
          s.name === name &&
          Object.keys(s.labels).length === Object.keys(labels).length &&
          Object.entries(labels).every(([k, v]) => s.labels[k] === v),
      );
      if (found.length !== 1) {
        throw new Error(`${found.length} samples ${name} ${JSON.stringify(labels)}`);
      }
      return found[0].value;
    },
  };
}
