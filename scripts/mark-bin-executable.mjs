// tsc writes files without the executable bit, and npm does not link a package's own `bin` into
// its node_modules/.bin, so `npx doppel` inside the checkout runs dist/src/cli/main.js directly
// through the shell: it has to be executable.
import { chmodSync, readFileSync } from 'node:fs';

const { bin } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
for (const target of Object.values(bin)) chmodSync(new URL(`../${target}`, import.meta.url), 0o755);
