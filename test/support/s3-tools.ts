/**
 * Helpers for the suites that drive doppel with outside tools (the AWS CLI, boto3) and for the S3
 * endpoint suites (test/integration/s3-*.test.ts): finding the AWS CLI and a Python with boto3,
 * running a command, an environment that keeps the caller's AWS settings out, an S3 client for the
 * JS SDK, files of random bytes, and the server's peak memory.
 */
import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { TEST_CREDENTIALS, TEST_REGION, type TestServer } from './server.js';

/** The `aws` executable, resolved past a pyenv shim (each shim call costs a shell and `pyenv exec`). */
export function findAws(): string | undefined {
  const probe = spawnSync('aws', ['--version'], { stdio: 'ignore', timeout: 30_000 });
  if (probe.status !== 0) return undefined;
  const located = spawnSync('sh', ['-c', 'command -v aws'], { encoding: 'utf8' }).stdout.trim();
  if (located.includes('/.pyenv/shims/')) {
    const real = spawnSync('pyenv', ['which', 'aws'], { encoding: 'utf8', timeout: 30_000 });
    const path = real.status === 0 ? real.stdout.trim() : '';
    if (path && spawnSync(path, ['--version'], { stdio: 'ignore', timeout: 30_000 }).status === 0) return path;
  }
  return 'aws';
}

/** The first of `candidates` (unset ones skipped) that can import boto3. */
export function findPythonWithBoto3(candidates: Array<string | undefined> = ['python3', '/usr/bin/python3']): string | undefined {
  for (const candidate of candidates) {
    if (!candidate) continue;
    const probe = spawnSync(candidate, ['-c', 'import boto3'], { stdio: 'ignore', timeout: 30_000 });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}

/** The caller's environment without AWS_* / BOTO* settings, which could redirect or re-credential a client. */
export function envWithoutAwsSettings(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('AWS_') && !key.startsWith('BOTO')) env[key] = value;
  }
  return env;
}

/**
 * The caller's environment without AWS_* / BOTO* settings, plus the test credentials and config
 * files that must exist and be empty (so no profile of the machine's user can interfere).
 */
export function isolatedAwsEnv(configFile: string, credentialsFile: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  for (const file of [configFile, credentialsFile]) if (!existsSync(file)) writeFileSync(file, '');
  return {
    ...envWithoutAwsSettings(),
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    AWS_DEFAULT_REGION: TEST_REGION,
    AWS_CONFIG_FILE: configFile,
    AWS_SHARED_CREDENTIALS_FILE: credentialsFile,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
    PYTHONDONTWRITEBYTECODE: '1',
    PYTHONWARNINGS: 'ignore::ResourceWarning',
    ...extra,
  };
}

export interface CommandOutput {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end, collecting what it prints; fails only when it cannot be started. */
export function runCommand(file: string, args: string[], options: Omit<SpawnOptions, 'stdio'>): Promise<CommandOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface UnittestRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** stdout and stderr interleaved, as they came. */
  output: string;
}

/**
 * Runs a Python unittest module (`python -m unittest -v <module>`) in `cwd`. Past `timeLimitMs` the
 * process is killed, and the output says so under `label`, so a hung suite fails with its transcript.
 */
export function runPythonUnittest(
  python: string,
  module: string,
  options: { cwd: string; env: NodeJS.ProcessEnv; timeLimitMs: number; label: string },
): Promise<UnittestRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, ['-m', 'unittest', '-v', module], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    const timer = setTimeout(() => {
      output += `\n[${options.label}] killed after ${options.timeLimitMs} ms\n`;
      child.kill('SIGKILL');
    }, options.timeLimitMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

/** An S3 client for the server (path style; one attempt, so every call is one HTTP exchange). */
export function s3Client(server: Pick<TestServer, 'endpoint'>, config: Partial<S3ClientConfig> = {}): S3Client {
  return new S3Client({
    endpoint: server.endpoint,
    region: TEST_REGION,
    credentials: TEST_CREDENTIALS,
    forcePathStyle: true,
    maxAttempts: 1,
    ...config,
  });
}

/** Writes `size` random bytes to `path` in 1 MiB pieces; returns their SHA-256 (hex). */
export async function writeRandomFile(path: string, size: number): Promise<string> {
  const file = await open(path, 'w');
  const hash = createHash('sha256');
  try {
    for (let written = 0; written < size; ) {
      const piece = randomBytes(Math.min(1024 * 1024, size - written));
      hash.update(piece);
      await file.write(piece);
      written += piece.length;
    }
  } finally {
    await file.close();
  }
  return hash.digest('hex');
}

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Peak resident memory of a process in bytes (Linux /proc), or undefined elsewhere. */
export function peakRssBytes(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Quiets the JS SDK's warning that future versions need Node 22 (noise in test output). */
export function silenceSdkNodeVersionWarning(): void {
  const original = process.emitWarning.bind(process);
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (/will require node >=\s*22|NodeVersionSupportWarning/i.test(text) || String(rest[0]).includes('NodeVersionSupportWarning')) return;
    (original as (...args: unknown[]) => void)(warning, ...rest);
  }) as typeof process.emitWarning;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface RawRequestOptions {
  method: string;
  /** Path and query exactly as they go on the wire (already percent-encoded as wanted). */
  target: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  /** Host header (default: the server's host:port), e.g. `bucket.localhost:PORT`. */
  host?: string;
  /** Sign with SigV4 for service s3 (default true), optionally with other credentials. */
  sign?: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** x-amz-content-sha256 to declare (default: the body's SHA-256). */
  contentSha256?: string;
  /**
   * The body actually sent, built from the signed headers (aws-chunked bodies chain their chunk
   * signatures from the request's signature); `body` is then only what the signer sees.
   */
  bodyAfterSigning?: (signedHeaders: Record<string, string>) => Uint8Array;
}

/**
 * One HTTP request sent exactly as given (no path normalisation, no SDK), signed the way S3 clients
 * sign: the path is used as sent, the payload through x-amz-content-sha256.
 */
export async function rawS3Request(server: Pick<TestServer, 'endpoint'>, options: RawRequestOptions): Promise<RawResponse> {
  const url = new URL(server.endpoint);
  const body = options.body === undefined ? Buffer.alloc(0) : Buffer.from(options.body);
  const host = options.host ?? url.host;
  const q = options.target.indexOf('?');
  const path = q >= 0 ? options.target.slice(0, q) : options.target;
  const query: Record<string, string> = {};
  if (q >= 0) {
    for (const part of options.target.slice(q + 1).split('&')) {
      if (part === '') continue;
      const eq = part.indexOf('=');
      query[decodeURIComponent(eq >= 0 ? part.slice(0, eq) : part)] = eq >= 0 ? decodeURIComponent(part.slice(eq + 1)) : '';
    }
  }
  let headers: Record<string, string> = {
    host,
    'x-amz-content-sha256': options.contentSha256 ?? createHash('sha256').update(body).digest('hex'),
    ...(options.headers ?? {}),
  };
  if (!('content-length' in headers) && !('transfer-encoding' in headers)) headers['content-length'] = String(body.length);
  if (options.sign !== false) {
    const signer = new SignatureV4({
      service: 's3',
      region: TEST_REGION,
      credentials: options.credentials ?? TEST_CREDENTIALS,
      sha256: Sha256,
      uriEscapePath: false,
      applyChecksum: false,
    });
    const signed = await signer.sign(
      new HttpRequest({ method: options.method, protocol: 'http:', hostname: host, path, query, headers, body }),
    );
    headers = signed.headers as Record<string, string>;
  }
  const wireBody = options.bodyAfterSigning ? Buffer.from(options.bodyAfterSigning(headers)) : body;
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { host: url.hostname, port: url.port, method: options.method, path: options.target, headers, agent: false },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(wireBody);
  });
}

/** The <Code> of an S3 error document. */
export function errorCode(response: RawResponse): string | undefined {
  return /<Code>([^<]*)<\/Code>/.exec(response.body.toString('utf8'))?.[1];
}
