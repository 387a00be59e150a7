import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where `npm run build` writes the web UI's bundle (dist/ui, beside dist/src; dist/web holds what tsc compiles of web/ for the unit tests, never served). */
export const WEB_UI_DIR = fileURLToPath(new URL('../../ui/', import.meta.url));

/** The path the UI is served under. S3 bucket names have at least three characters, so no path-style bucket can be `ui`. */
export const WEB_UI_PATH = '/ui/';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * Answers GET and HEAD under /ui/ with the built UI's static files: nothing else runs on the API
 * process for the UI, which is a Glue and S3 client of its own in the browser. A path outside the
 * bundle's folder or a missing file is a 404; a bundle that was not built says how to build it.
 */
export async function serveWebUi(path: string, method: string, dir: string = WEB_UI_DIR): Promise<Response> {
  const notFound = (hint = '') => new Response(`not found${hint}\n`, { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' } });
  let relative: string;
  try {
    relative = decodeURIComponent(path.slice(WEB_UI_PATH.length)) || 'index.html';
  } catch {
    return notFound();
  }
  const file = normalize(join(dir, relative));
  if (!file.startsWith(dir.endsWith(sep) ? dir : dir + sep)) return notFound();
  const type = CONTENT_TYPES[extname(file)];
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch {
    return notFound(relative === 'index.html' ? ': the web UI is not built (npm run build)' : '');
  }
  const headers = {
    'content-type': type ?? 'application/octet-stream',
    'content-length': String(body.length),
    // The bundle's names do not change between builds, so the browser revalidates every load.
    'cache-control': 'no-cache',
  };
  return new Response(method === 'HEAD' ? null : body, { status: 200, headers });
}
