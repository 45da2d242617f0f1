/**
 * Rewrites a statement written for both engines (storage/sql.ts) into PostgreSQL's dialect:
 * `?`, `@name`, `:name` and `$name` parameters become `$1`, `$2`... (one number per name), and
 * SQLite's `instr(text, part)` becomes `strpos(text, part)` (same arguments, same result), and
 * aliases with capitals (`AS tokenHash`) are quoted, so they keep their case as in SQLite.
 * Quoted strings, quoted identifiers and comments are copied as they are.
 */
export interface Translated {
  text: string;
  /** The parameter names in number order, or null when the statement takes positional ones. */
  names: string[] | null;
  /** How many `$n` the text has. */
  count: number;
}

const RENAMED: Record<string, string> = { instr: 'strpos' };

export function translate(source: string): Translated {
  let text = '';
  const names: string[] = [];
  let positional = 0;
  let i = 0;
  const n = source.length;
  while (i < n) {
    const c = source[i];
    if (c === "'" || c === '"') {
      const end = closing(source, i, c);
      text += source.slice(i, end);
      i = end;
    } else if (c === '-' && source[i + 1] === '-') {
      const end = source.indexOf('\n', i);
      const stop = end === -1 ? n : end;
      text += source.slice(i, stop);
      i = stop;
    } else if (c === '/' && source[i + 1] === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end === -1 ? n : end + 2;
      text += source.slice(i, stop);
      i = stop;
    } else if (c === '?') {
      text += `$${++positional}`;
      i++;
    } else if ((c === '@' || c === ':' || c === '$') && /[A-Za-z_]/.test(source[i + 1] ?? '')) {
      // `::type` casts are PostgreSQL's own and are left alone.
      if (c === ':' && source[i - 1] === ':') {
        text += c;
        i++;
        continue;
      }
      let end = i + 1;
      while (end < n && /[A-Za-z0-9_]/.test(source[end])) end++;
      const name = source.slice(i + 1, end);
      let index = names.indexOf(name);
      if (index === -1) index = names.push(name) - 1;
      // `@x IS NULL` first: PostgreSQL types a parameter where it first meets it, and cannot
      // from IS NULL. The stores' optional parameters are all text.
      text += `$${index + 1}${/^\s+IS\s+(NOT\s+)?NULL\b/i.test(source.slice(end, end + 16)) ? '::text' : ''}`;
      i = end;
    } else if (/[A-Za-z_]/.test(c) && !/[A-Za-z0-9_$.]/.test(source[i - 1] ?? '')) {
      let end = i + 1;
      while (end < n && /[A-Za-z0-9_]/.test(source[end])) end++;
      const word = source.slice(i, end);
      const renamed = RENAMED[word.toLowerCase()];
      if (renamed && source[end] === '(') text += renamed;
      // PostgreSQL folds unquoted names to lower case; SQLite keeps an alias as written, and
      // the stores read columns such as `tokenHash` by it.
      // (Only mixed-case words: CAST(x AS BIGINT) names a type.)
      else if (
        /[A-Z]/.test(word) &&
        /[a-z]/.test(word) &&
        /\bAS\s+$/i.test(source.slice(Math.max(0, i - 8), i))
      )
        text += `"${word}"`;
      else text += word;
      i = end;
    } else {
      text += c;
      i++;
    }
  }
  if (positional > 0 && names.length > 0) {
    throw new Error('a statement takes either positional (?) or named (@name) parameters');
  }
  return {
    text,
    names: names.length > 0 ? names : null,
    count: positional || names.length,
  };
}

/** The index just past the quote that closes the one at `start` ('' and "" are escapes). */
function closing(source: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < source.length) {
    if (source[i] === quote) {
      if (source[i + 1] === quote) i += 2;
      else return i + 1;
    } else i++;
  }
  return source.length;
}

/** The values for `$1..$count`, from better-sqlite3-style arguments. */
export function bind(translated: Translated, args: unknown[]): unknown[] {
  if (translated.names) {
    const named = args[0];
    if (args.length !== 1 || typeof named !== 'object' || named === null) {
      throw new TypeError('this statement takes named parameters: pass one object');
    }
    return translated.names.map((name) => {
      if (!(name in named)) throw new RangeError(`Missing named parameter "${name}"`);
      return value((named as Record<string, unknown>)[name]);
    });
  }
  // better-sqlite3 also takes the values as one array; an array may be a value too (unnest).
  const values =
    args.length === 1 && Array.isArray(args[0]) && translated.count !== 1
      ? (args[0] as unknown[])
      : args;
  if (values.length !== translated.count) {
    throw new RangeError(
      `Too ${values.length < translated.count ? 'few' : 'many'} parameter values were provided`,
    );
  }
  return values.map(value);
}

/** SQLite's binding rules: numbers, strings, buffers and null; bigints as their digits. */
function value(v: unknown): unknown {
  if (v === undefined) return null;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v;
}
