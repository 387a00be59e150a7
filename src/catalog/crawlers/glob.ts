/**
 * A crawler exclusion pattern (S3Target.Exclusions) as a regular expression over an object key
 * relative to the include path, with Glue's glob rules: `*` matches within one folder level, `**`
 * across levels, `?` one character, `[...]` a character class (`[!...]` negated), `{a,b}` either
 * alternative, and `\` escapes the next character. Glue's globs are Java's: `**` crosses folder
 * levels wherever it stands (`year=2020/**.csv` takes `year=2020/month=1/a.csv`), where picomatch
 * reads a `**` that shares its level with other characters as `*`, and `[!...]` as a class of `!`.
 */
export function globPattern(glob: string): RegExp {
  let source = '';
  let braces = 0;
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '\\' && i + 1 < glob.length) {
      source += escapeRegExp(glob[++i]!);
    } else if (ch === '*') {
      if (glob[i + 1] === '*') {
        i++;
        // `**/` also matches no folder at all.
        if (glob[i + 1] === '/') {
          i++;
          source += '(?:.*/)?';
        } else source += '.*';
      } else source += '[^/]*';
    } else if (ch === '?') {
      source += '[^/]';
    } else if (ch === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) source += '\\[';
      else {
        const body = glob.slice(i + 1, end);
        source += body.startsWith('!') ? `[^${body.slice(1).replace(/\\/g, '\\\\')}]` : `[${body.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else if (ch === '{') {
      braces++;
      source += '(?:';
    } else if (ch === '}' && braces > 0) {
      braces--;
      source += ')';
    } else if (ch === ',' && braces > 0) {
      source += '|';
    } else {
      source += escapeRegExp(ch);
    }
  }
  return new RegExp(`^${source}${')'.repeat(braces)}$`);
}

const escapeRegExp = (ch: string) => ch.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
