/** One SigV4-signed AWS JSON request, for reading the raw wire (members SDKs would drop). */
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { TEST_CREDENTIALS, TEST_REGION, type TestServer } from './server.js';

const signer = new SignatureV4({ credentials: TEST_CREDENTIALS, region: TEST_REGION, service: 'glue', sha256: Sha256 });

export function rawGlueCall(
  server: TestServer,
  operation: string,
  input: Record<string, unknown>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  return rawGlueRequest(server, operation, JSON.stringify(input));
}

/** The same with the body text sent as given (e.g. nested deeper than JSON.stringify goes). */
export async function rawGlueRequest(
  server: TestServer,
  operation: string,
  body: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const signed = await signer.sign(glueHttpRequest(server, operation, body));
  const res = await fetch(server.endpoint, { method: 'POST', headers: signed.headers, body });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The unsigned HTTP request of an AWS JSON call to the server; `headers` add to (or replace) Glue's. */
export function glueHttpRequest(
  server: TestServer,
  operation: string,
  body: string,
  headers: Record<string, string> = {},
): HttpRequest {
  const url = new URL(server.endpoint);
  return new HttpRequest({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: '/',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `AWSGlue.${operation}`, ...headers, host: url.host },
    body,
  });
}

/** The FindMatchesTaskRunProperties of a job run's FIND_MATCHES task run, on the raw wire (doppel's members included). */
export async function findMatchesRunProperties(server: TestServer, transformId: string, jobRunId: string): Promise<Record<string, unknown>> {
  const listed = await rawGlueCall(server, 'GetMLTaskRuns', { TransformId: transformId, Filter: { TaskRunType: 'FIND_MATCHES' } });
  const props = (listed.body['TaskRuns'] as Array<{ Properties: { FindMatchesTaskRunProperties: Record<string, unknown> } }>)
    .map((r) => r.Properties.FindMatchesTaskRunProperties)
    .find((p) => p['JobRunId'] === jobRunId);
  if (!props) throw new Error(`job run ${jobRunId} has no FIND_MATCHES task run`);
  return props;
}
