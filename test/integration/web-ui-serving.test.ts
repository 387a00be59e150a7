/**
 * The server's side of the web UI: unsigned GET and HEAD under /ui/ answer the built files
 * (dist/ui), nothing outside that folder, and signed requests stay the S3 endpoint's.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startServer, stopAndRemove, type TestServer } from '../support/server.js';

/** A raw GET, so that the path reaches the server exactly as written (fetch would normalise `..`). */
function rawGet(server: TestServer, path: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string; body: string; location?: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, headers }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString()));
      res.on('end', () =>
        resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body, ...(res.headers.location ? { location: res.headers.location } : {}) }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('web UI files under /ui/', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => stopAndRemove(server));

  it('answers the page, its script and stylesheets with their types', async () => {
    const page = await rawGet(server, '/ui/');
    assert.equal(page.status, 200);
    assert.match(page.type, /^text\/html/);
    assert.match(page.body, /<script type="module" src="app.js">/);
    assert.match((await rawGet(server, '/ui/app.js')).type, /^text\/javascript/);
    assert.match((await rawGet(server, '/ui/style.css')).type, /^text\/css/);
    assert.match(page.body, /<link rel="stylesheet" href="uplot.css" \/>/);
    const uplotCss = await rawGet(server, '/ui/uplot.css');
    assert.equal(uplotCss.status, 200, "the charts' stylesheet, copied from the uplot package");
    assert.match(uplotCss.type, /^text\/css/);
    const bare = await rawGet(server, '/ui');
    assert.equal(bare.status, 302);
    assert.equal(bare.location, '/ui/');
  });

  it('answers nothing outside the bundle', async () => {
    for (const path of ['/ui/../src/server.js', '/ui/%2e%2e/src/server.js', '/ui/..%2f..%2fpackage.json', '/ui/%E0%A4%A', '/ui/missing.js']) {
      const r = await rawGet(server, path);
      assert.equal(r.status, 404, path);
      assert.doesNotMatch(r.body, /import|"name"/, path);
    }
  });

  it('leaves signed requests to the S3 endpoint', async () => {
    const r = await rawGet(server, '/ui/app.js', { authorization: 'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00' });
    assert.notEqual(r.status, 200);
    assert.match(r.type, /xml/);
  });
});
