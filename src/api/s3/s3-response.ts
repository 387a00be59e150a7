/** Building S3 responses: XML documents, empty answers, streamed bodies and error documents. */
import type { Readable } from 'node:stream';
import type { S3Error } from './s3-errors.js';
import { buildXml, type XmlElement } from './s3-xml.js';

export type HeaderMap = Record<string, string>;

export function xmlResponse(root: string, content: XmlElement, headers: HeaderMap = {}, status = 200): Response {
  return new Response(buildXml(root, content), {
    status,
    headers: { 'content-type': 'application/xml', ...headers },
  });
}

export function emptyResponse(status: number, headers: HeaderMap = {}): Response {
  return new Response(null, { status, headers });
}

/**
 * A response streaming `body`. The web stream pulls one chunk at a time from the Node stream, so a
 * slow client holds back the file reads instead of piling chunks up in memory; a client that goes
 * away cancels the stream, which closes the file.
 */
export function streamResponse(status: number, headers: HeaderMap, body: Readable): Response {
  const chunks = body[Symbol.asyncIterator]();
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const next = await chunks.next();
          if (next.done) controller.close();
          else controller.enqueue(next.value as Uint8Array);
        } catch (e) {
          controller.error(e);
        }
      },
      cancel() {
        body.destroy();
      },
    },
    { highWaterMark: 0 },
  );
  return new Response(stream, { status, headers });
}

/** S3's error document; HEAD answers carry no body, so only the status and headers tell. */
export function errorResponse(error: S3Error, method: string, resource: string, requestId: string): Response {
  const headers: HeaderMap = { 'x-amz-error-code': error.code };
  if (method === 'HEAD') return emptyResponse(error.status, headers);
  const content: XmlElement = {
    Code: error.code,
    Message: error.message,
    ...error.details,
    Resource: resource,
    RequestId: requestId,
  };
  return new Response(buildXml('Error', content, false), {
    status: error.status,
    headers: { 'content-type': 'application/xml', ...headers },
  });
}

/** Dates as S3 writes them in XML: ISO 8601 with milliseconds. */
export const isoDate = (ms: number) => new Date(ms).toISOString();
/** Dates as HTTP headers carry them (Last-Modified). */
export const httpDate = (ms: number) => new Date(ms).toUTCString();
