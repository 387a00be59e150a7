#!/usr/bin/env node
// Checks that imports between the parts of src/ point one way (README "Layout"):
//   entry points (cli/, server.ts, config.ts) → api/ → catalog/ transforms/ tasks/ jobs/ tags/
//   evaluation/ → engine/ storage/ → core/
// A part may import its own files and any part below it, never one above; core/ imports nothing
// outside itself, and the engine imports nothing outside itself but Node's built-in modules.
// The web UI (web/) is a client of the API over HTTP: its code imports only itself and packages,
// never src/, and src/ never imports web/ (the server only serves the built files).
// Usage: node scripts/check-deps.mjs (exit code 1 and one line per offending import).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
const src = join(root, 'src');

/** Rank of each part: an import may only go to a lower rank, or stay within its part. */
const RANK = {
  cli: 5,
  'server.ts': 5,
  'config.ts': 5,
  api: 4,
  catalog: 3,
  transforms: 3,
  tasks: 3,
  jobs: 3,
  tags: 3,
  evaluation: 3,
  engine: 2,
  storage: 2,
  core: 1,
};
/** Parts of one rank may import each other, except these, which stand alone. */
const SEALED = new Set(['engine', 'core']);

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** The part a file belongs to: its folder under src/, or its own name (`.ts`, also for an import's `.js`). */
const partOf = (file) => relative(src, file).split('/')[0].replace(/\.js$/, '.ts');
const IMPORT = /^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s*\(\s*['"]([^'"]+)['"]/gm;

const problems = [];
for (const file of files(src)) {
  const from = partOf(file);
  const rank = RANK[from];
  if (rank === undefined) {
    problems.push(`${relative(root, file)}: src/${from} is not a known part (add it to scripts/check-deps.mjs)`);
    continue;
  }
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2];
    if (!spec.startsWith('.')) {
      if (from === 'engine' && !spec.startsWith('node:')) problems.push(`${relative(root, file)}: the engine imports the package ${spec}`);
      continue;
    }
    const to = partOf(resolve(dirname(file), spec));
    if (to === from) continue;
    const toRank = RANK[to];
    const where = `${relative(root, file)} imports ${spec} (src/${from} → src/${to})`;
    if (toRank === undefined) problems.push(`${where}: not a part of src/`);
    else if (SEALED.has(from)) problems.push(`${where}: src/${from} imports nothing outside itself`);
    else if (toRank > rank) problems.push(`${where}: an import upward`);
  }
}
const web = join(root, 'web', 'src');
for (const file of files(web)) {
  for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
    const spec = m[1] ?? m[2];
    if (spec.startsWith('.') && relative(join(root, 'web'), resolve(dirname(file), spec)).startsWith('..')) {
      problems.push(`${relative(root, file)} imports ${spec}: web/ imports nothing outside itself but packages`);
    }
  }
}
for (const file of files(src)) {
  for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
    const spec = m[1] ?? m[2];
    if (spec.startsWith('.') && !relative(join(root, 'web'), resolve(dirname(file), spec)).startsWith('..')) {
      problems.push(`${relative(root, file)} imports ${spec}: src/ never imports the web UI`);
    }
  }
}
if (problems.length > 0) {
  console.error(`dependency rules (scripts/check-deps.mjs): ${problems.length} offending import(s)`);
  for (const p of problems) console.error(`  ${p}`);
  process.exit(1);
}
console.log('dependency rules: ok');
