import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { DEFAULTS } from '../config.js';

/** A minimal signed AWS JSON 1.1 Glue client: what the CLI needs, without the SDK. */
export class GlueCaller {
  readonly #signer: SignatureV4;
  constructor(
    private readonly endpoint: string,
    private readonly region: string,
    credentials: { accessKeyId: string; secretAccessKey: string },
  ) {
    this.#signer = new SignatureV4({ service: 'glue', region, credentials, sha256: Sha256 });
  }

  /**
   * The server at `endpoint` [DOPPEL_ENDPOINT, AWS_ENDPOINT_URL; default the local default port] in
   * `region` [AWS_REGION, AWS_DEFAULT_REGION; default us-east-1], signed with AWS_ACCESS_KEY_ID /
   * AWS_SECRET_ACCESS_KEY (default test / test).
   */
  static fromEnvironment(endpoint: string | undefined, region: string | undefined, env = process.env): GlueCaller {
    return new GlueCaller(
      endpoint ?? env['DOPPEL_ENDPOINT'] ?? env['AWS_ENDPOINT_URL'] ?? `http://${DEFAULTS.host}:${DEFAULTS.port}`,
      region ?? env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'] ?? 'us-east-1',
      { accessKeyId: env['AWS_ACCESS_KEY_ID'] ?? 'test', secretAccessKey: env['AWS_SECRET_ACCESS_KEY'] ?? 'test' },
    );
  }

  async call(operation: string, input: Record<string, unknown>): Promise<Record<string, unknown>> {
    const url = new URL(this.endpoint);
    const body = JSON.stringify(input);
    const request = new HttpRequest({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: '/',
      headers: {
        host: url.host,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': `AWSGlue.${operation}`,
      },
      body,
    });
    const signed = await this.#signer.sign(request);
    const response = await fetch(new URL('/', url), {
      method: 'POST',
      headers: signed.headers as Record<string, string>,
      body,
    });
    const text = await response.text();
    const parsed = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
    if (!response.ok) {
      const type = String(parsed['__type'] ?? `HTTP ${response.status}`).split('#').pop();
      throw new GlueCallError(type ?? 'Error', String(parsed['Message'] ?? parsed['message'] ?? text));
    }
    return parsed;
  }
}

export class GlueCallError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(`${type}: ${message}`);
  }
}
