/**
 * The embedded object store through the unmodified AWS CLI: `aws s3` (mb, cp, ls, mv, sync, rm, rb)
 * and `aws s3api`, with `--endpoint-url` and the server's default credentials. Includes the
 * acceptance case: a 100 MB file goes in with `aws s3 cp` (a multipart upload) and comes back
 * identical. Skips when `aws` is not installed.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startServer, stopAndRemove, type TestServer } from '../support/server.js';
import { findAws, isolatedAwsEnv, peakRssBytes, runCommand, sha256OfFile, writeRandomFile, type CommandOutput } from '../support/s3-tools.js';

const AWS = findAws();
const MB = 1024 * 1024;

interface CliResult extends CommandOutput {
  command: string;
}

let server: TestServer;
let workDir: string;

function aws(args: string[], target: TestServer = server): Promise<CliResult> {
  const full = [...args, '--endpoint-url', target.endpoint];
  const command = `aws ${full.join(' ')}`;
  const env = isolatedAwsEnv(join(workDir, 'config'), join(workDir, 'credentials'));
  return runCommand(AWS!, full, { env, cwd: workDir }).then((result) => ({ ...result, command }));
}

/** Runs a command that must succeed; returns stdout. */
async function ok(args: string[], target?: TestServer): Promise<string> {
  const r = await aws(args, target);
  assert.equal(r.code, 0, `${r.command}\nexit ${r.code}\nstderr: ${r.stderr}\nstdout: ${r.stdout}\n${server.output().slice(-2000)}`);
  return r.stdout;
}

/** Runs an `aws s3api` command that must succeed; returns its JSON output ({} when empty). */
async function api(args: string[], target?: TestServer): Promise<any> {
  const text = (await ok(['s3api', ...args, '--output', 'json'], target)).trim();
  return text === '' ? {} : JSON.parse(text);
}

/** Runs a command that must fail with `An error occurred (<code>)`; returns stderr. */
async function fails(code: string, args: string[]): Promise<string> {
  const r = await aws(args);
  assert.notEqual(r.code, 0, `${r.command} should have failed with ${code}`);
  assert.match(r.stderr, new RegExp(`An error occurred \\(${code}\\)`), `${r.command}\nstderr: ${r.stderr}`);
  return r.stderr;
}

function writeTree(root: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}

function readTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else out[relative(root, path)] = readFileSync(path, 'utf8');
    }
  };
  walk(root);
  return out;
}

if (!AWS) {
  test('AWS CLI against the S3 endpoint', (t) => {
    t.skip('aws CLI not installed: apt-get install awscli (or pip install awscli)');
  });
} else {
  describe('S3 endpoint with the AWS CLI', { timeout: 600_000 }, () => {
    before(async () => {
      workDir = mkdtempSync(join(tmpdir(), 'doppel-s3-cli-'));
      server = await startServer();
    });
    after(async () => {
      await stopAndRemove(server);
      rmSync(workDir, { recursive: true, force: true });
    });

    test('mb, ls, cp up and down, cp to stdout, rm, rb', async () => {
      assert.match(await ok(['s3', 'mb', 's3://cli-basics']), /make_bucket: cli-basics/);
      assert.match(await ok(['s3', 'ls']), /\bcli-basics\b/);
      writeFileSync(join(workDir, 'hello.txt'), 'hello, doppel\n');
      await ok(['s3', 'cp', join(workDir, 'hello.txt'), 's3://cli-basics/greetings/hello.txt']);
      await ok(['s3', 'cp', join(workDir, 'hello.txt'), 's3://cli-basics/top.txt']);

      const listing = await ok(['s3', 'ls', 's3://cli-basics/']);
      assert.match(listing, /PRE greetings\//);
      assert.match(listing, /\s14 top\.txt/);
      assert.match(await ok(['s3', 'ls', 's3://cli-basics/', '--recursive']), /\s14 greetings\/hello\.txt/);

      await ok(['s3', 'cp', 's3://cli-basics/greetings/hello.txt', join(workDir, 'back.txt')]);
      assert.equal(readFileSync(join(workDir, 'back.txt'), 'utf8'), 'hello, doppel\n');
      assert.equal(await ok(['s3', 'cp', 's3://cli-basics/top.txt', '-']), 'hello, doppel\n');

      await fails('BucketNotEmpty', ['s3', 'rb', 's3://cli-basics']);
      await ok(['s3', 'rm', 's3://cli-basics/top.txt']);
      await ok(['s3', 'rm', 's3://cli-basics/', '--recursive']);
      assert.equal((await ok(['s3', 'ls', 's3://cli-basics/', '--recursive'])).trim(), '');
      await ok(['s3', 'rb', 's3://cli-basics']);
      assert.doesNotMatch(await ok(['s3', 'ls']), /\bcli-basics\b/);
    });

    test('cp between keys (CopyObject) and mv', async () => {
      await ok(['s3', 'mb', 's3://cli-copy']);
      writeFileSync(join(workDir, 'source.csv'), 'id,name\n1,ann\n');
      await ok(['s3', 'cp', join(workDir, 'source.csv'), 's3://cli-copy/in/source.csv']);
      await ok(['s3', 'cp', 's3://cli-copy/in/source.csv', 's3://cli-copy/copies/copy.csv']);
      await ok(['s3', 'mv', 's3://cli-copy/in/source.csv', 's3://cli-copy/moved/source.csv']);
      const keys = (await api(['list-objects-v2', '--bucket', 'cli-copy'])).Contents.map((o: { Key: string }) => o.Key);
      assert.deepEqual(keys, ['copies/copy.csv', 'moved/source.csv']);
      assert.equal(await ok(['s3', 'cp', 's3://cli-copy/copies/copy.csv', '-']), 'id,name\n1,ann\n');
      const head = await api(['head-object', '--bucket', 'cli-copy', '--key', 'moved/source.csv']);
      assert.equal(head.ContentType, 'text/csv', 'cp guesses the type and the copy keeps it');
    });

    test('sync up, down and with --delete, including odd file names', async () => {
      await ok(['s3', 'mb', 's3://cli-sync']);
      const local = join(workDir, 'sync-src');
      const files = {
        'a.txt': 'a',
        'nested/b.txt': 'bb',
        'nested/deeper/c.txt': 'ccc',
        'with space/d e.txt': 'dd ee',
        'ünïcödé/日本語.txt': 'unicode',
        'plus+and%percent.txt': 'symbols',
      };
      writeTree(local, files);
      await ok(['s3', 'sync', local, 's3://cli-sync/tree/']);
      const keys = (await api(['list-objects-v2', '--bucket', 'cli-sync', '--prefix', 'tree/'])).Contents.map(
        (o: { Key: string }) => o.Key,
      );
      assert.deepEqual([...keys].sort(), Object.keys(files).map((f) => `tree/${f}`).sort());

      const down = join(workDir, 'sync-dst');
      await ok(['s3', 'sync', 's3://cli-sync/tree/', down]);
      assert.deepEqual(readTree(down), files);

      // Nothing changed: a second sync uploads nothing.
      assert.equal((await ok(['s3', 'sync', local, 's3://cli-sync/tree/'])).trim(), '');

      unlinkSync(join(local, 'nested/b.txt'));
      await ok(['s3', 'sync', local, 's3://cli-sync/tree/', '--delete']);
      const after = (await api(['list-objects-v2', '--bucket', 'cli-sync', '--prefix', 'tree/'])).Contents.map(
        (o: { Key: string }) => o.Key,
      );
      assert.ok(!after.includes('tree/nested/b.txt'));
      assert.equal(after.length, Object.keys(files).length - 1);
    });

    test('s3api: metadata, ranges, pagination, delimiters, delete-objects, multipart, errors', async () => {
      await api(['create-bucket', '--bucket', 'cli-api']);
      writeFileSync(join(workDir, 'body.txt'), '0123456789abcdefghij');
      const put = await api([
        'put-object', '--bucket', 'cli-api', '--key', 'docs/body.txt', '--body', join(workDir, 'body.txt'),
        '--content-type', 'text/x-test', '--metadata', 'owner=ann,purpose=testing',
      ]);
      assert.match(put.ETag, /^"[0-9a-f]{32}"$/);
      const head = await api(['head-object', '--bucket', 'cli-api', '--key', 'docs/body.txt']);
      assert.equal(head.ContentLength, 20);
      assert.equal(head.ContentType, 'text/x-test');
      assert.deepEqual(head.Metadata, { owner: 'ann', purpose: 'testing' });
      assert.equal(head.ETag, put.ETag);

      const ranged = await api(['get-object', '--bucket', 'cli-api', '--key', 'docs/body.txt', '--range', 'bytes=5-9', join(workDir, 'range.out')]);
      assert.equal(ranged.ContentRange, 'bytes 5-9/20');
      assert.equal(readFileSync(join(workDir, 'range.out'), 'utf8'), '56789');

      writeTree(join(workDir, 'pages'), Object.fromEntries([0, 1, 2, 3, 4].map((i) => [`k${i}`, `page ${i}`])));
      await ok(['s3', 'cp', join(workDir, 'pages'), 's3://cli-api/page/', '--recursive', '--only-show-errors']);
      // --page-size makes the CLI follow continuation tokens itself, two keys per request.
      const paged = await api(['list-objects-v2', '--bucket', 'cli-api', '--prefix', 'page/', '--page-size', '2']);
      assert.deepEqual(paged.Contents.map((o: { Key: string }) => o.Key), ['page/k0', 'page/k1', 'page/k2', 'page/k3', 'page/k4']);
      const first = await api(['list-objects-v2', '--bucket', 'cli-api', '--prefix', 'page/', '--max-keys', '2', '--no-paginate']);
      assert.equal(first.IsTruncated, true);
      assert.equal(first.KeyCount, 2);
      const second = await api([
        'list-objects-v2', '--bucket', 'cli-api', '--prefix', 'page/', '--max-keys', '2', '--no-paginate',
        '--continuation-token', first.NextContinuationToken,
      ]);
      assert.deepEqual(second.Contents.map((o: { Key: string }) => o.Key), ['page/k2', 'page/k3']);
      const v1 = await api(['list-objects', '--bucket', 'cli-api', '--prefix', 'page/', '--page-size', '2']);
      assert.equal(v1.Contents.length, 5);

      const rolled = await api(['list-objects-v2', '--bucket', 'cli-api', '--delimiter', '/']);
      assert.deepEqual(rolled.CommonPrefixes.map((p: { Prefix: string }) => p.Prefix), ['docs/', 'page/']);
      assert.equal(rolled.Contents, undefined);

      const deleted = await api([
        'delete-objects', '--bucket', 'cli-api', '--delete',
        JSON.stringify({ Objects: [{ Key: 'page/k0' }, { Key: 'page/k1' }, { Key: 'page/never-existed' }] }),
      ]);
      assert.deepEqual(deleted.Deleted.map((d: { Key: string }) => d.Key).sort(), ['page/k0', 'page/k1', 'page/never-existed']);
      assert.equal((await api(['list-objects-v2', '--bucket', 'cli-api', '--prefix', 'page/'])).Contents.length, 3);

      // A multipart upload by hand: two parts, the first at S3's 5 MiB minimum.
      await writeRandomFile(join(workDir, 'part1'), 5 * MB);
      writeFileSync(join(workDir, 'part2'), 'the last part may be small');
      const { UploadId } = await api(['create-multipart-upload', '--bucket', 'cli-api', '--key', 'mp/object']);
      const p1 = await api(['upload-part', '--bucket', 'cli-api', '--key', 'mp/object', '--upload-id', UploadId, '--part-number', '1', '--body', join(workDir, 'part1')]);
      const p2 = await api(['upload-part', '--bucket', 'cli-api', '--key', 'mp/object', '--upload-id', UploadId, '--part-number', '2', '--body', join(workDir, 'part2')]);
      const parts = await api(['list-parts', '--bucket', 'cli-api', '--key', 'mp/object', '--upload-id', UploadId]);
      assert.deepEqual(parts.Parts.map((p: { PartNumber: number }) => p.PartNumber), [1, 2]);
      const done = await api([
        'complete-multipart-upload', '--bucket', 'cli-api', '--key', 'mp/object', '--upload-id', UploadId,
        '--multipart-upload', JSON.stringify({ Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] }),
      ]);
      assert.match(done.ETag, /^"[0-9a-f]{32}-2"$/);
      assert.equal((await api(['head-object', '--bucket', 'cli-api', '--key', 'mp/object'])).ContentLength, 5 * MB + 26);
      const aborted = await api(['create-multipart-upload', '--bucket', 'cli-api', '--key', 'mp/aborted']);
      await api(['abort-multipart-upload', '--bucket', 'cli-api', '--key', 'mp/aborted', '--upload-id', aborted.UploadId]);
      await fails('NoSuchUpload', ['s3api', 'list-parts', '--bucket', 'cli-api', '--key', 'mp/aborted', '--upload-id', aborted.UploadId]);

      await fails('NoSuchKey', ['s3api', 'get-object', '--bucket', 'cli-api', '--key', 'missing', join(workDir, 'x')]);
      await fails('404', ['s3api', 'head-object', '--bucket', 'cli-api', '--key', 'missing']);
      await fails('NoSuchBucket', ['s3api', 'list-objects-v2', '--bucket', 'no-such-bucket-here']);
      await fails('404', ['s3api', 'head-bucket', '--bucket', 'no-such-bucket-here']);
      // Creating one's own bucket again: 200 in us-east-1 (S3's legacy behaviour), 409 elsewhere.
      await api(['create-bucket', '--bucket', 'cli-api']);
      await fails('BucketAlreadyOwnedByYou', ['s3api', 'create-bucket', '--bucket', 'cli-api', '--region', 'eu-west-1',
        '--create-bucket-configuration', 'LocationConstraint=eu-west-1']);
      await fails('InvalidBucketName', ['s3api', 'create-bucket', '--bucket', 'Not_Valid']);
      await fails('NotImplemented', ['s3api', 'get-bucket-acl', '--bucket', 'cli-api']);
    });

    test('a 100 MB file goes in with `aws s3 cp` (multipart) and comes back identical', { timeout: 300_000 }, async (t) => {
      // A server of its own, so its peak memory reflects these transfers only.
      const big = await startServer();
      try {
        const source = join(workDir, 'big.bin');
        const expected = await writeRandomFile(source, 100 * MB);
        await ok(['s3', 'mb', 's3://cli-big'], big);
        const baseline = peakRssBytes(big.process.pid);

        const started = Date.now();
        await ok(['s3', 'cp', source, 's3://cli-big/data/big.bin', '--only-show-errors'], big);
        const uploadMs = Date.now() - started;
        const head = await api(['head-object', '--bucket', 'cli-big', '--key', 'data/big.bin'], big);
        assert.equal(head.ContentLength, 100 * MB);
        assert.match(head.ETag, /^"[0-9a-f]{32}-\d+"$/, 'uploaded in parts');

        const back = join(workDir, 'big.back');
        await ok(['s3', 'cp', 's3://cli-big/data/big.bin', back, '--only-show-errors'], big);
        assert.equal(await sha256OfFile(back), expected);
        const roundTripMs = Date.now() - started;

        // An S3-to-S3 copy this large goes part by part (UploadPartCopy with byte ranges).
        await ok(['s3', 'cp', 's3://cli-big/data/big.bin', 's3://cli-big/copy.bin', '--only-show-errors'], big);
        const copied = await api(['head-object', '--bucket', 'cli-big', '--key', 'copy.bin'], big);
        assert.equal(copied.ContentLength, 100 * MB);
        assert.match(copied.ETag, /^"[0-9a-f]{32}-\d+"$/);
        await ok(['s3', 'cp', 's3://cli-big/copy.bin', back, '--only-show-errors'], big);
        assert.equal(await sha256OfFile(back), expected);

        // One 100 MB PUT without parts, and a download of it: streamed, never held in memory whole.
        await api(['put-object', '--bucket', 'cli-big', '--key', 'single.bin', '--body', source], big);
        await api(['get-object', '--bucket', 'cli-big', '--key', 'single.bin', back], big);
        assert.equal(await sha256OfFile(back), expected);

        const peak = peakRssBytes(big.process.pid);
        t.diagnostic(`upload ${uploadMs} ms, round trip ${roundTripMs} ms, ETag ${head.ETag}`);
        if (baseline !== undefined && peak !== undefined) {
          const growth = peak - baseline;
          t.diagnostic(`server peak RSS ${Math.round(peak / MB)} MB (+${Math.round(growth / MB)} MB over ${Math.round(baseline / MB)} MB)`);
          assert.ok(growth < 100 * MB, `the server's memory grew by ${Math.round(growth / MB)} MB moving 100 MB objects`);
        }
        rmSync(source);
        rmSync(back);
      } finally {
        await stopAndRemove(big);
      }
    });
  });
}
