import { request } from 'node:http';
import { type RawResponse, readResponse } from './raw-http.ts';

export interface Part {
  /** A file part when set (even to ''); a plain field otherwise. */
  filename?: string;
  name?: string;
  contentType?: string;
  body: string | Buffer;
  /** Extra header lines, as an attacker would add them. */
  headers?: string[];
}

export const BOUNDARY = 'crowdee-test-boundary-7d1f';

/** A multipart/form-data body, byte for byte (no library between the test and the wire). */
export function multipartBody(parts: Part[], boundary = BOUNDARY): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition =
      part.filename === undefined
        ? `form-data; name="${part.name ?? 'field'}"`
        : `form-data; name="${part.name ?? 'file'}"; filename="${part.filename}"`;
    const lines = [
      `--${boundary}`,
      `Content-Disposition: ${disposition}`,
      ...(part.contentType ? [`Content-Type: ${part.contentType}`] : []),
      ...(part.headers ?? []),
      '',
      '',
    ];
    chunks.push(Buffer.from(lines.join('\r\n')), Buffer.from(part.body), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

/** Sends a multipart body over a raw connection; resolves with the response even if the server stops reading. */
export function postMultipart(
  baseUrl: string,
  path: string,
  key: string | null,
  body: Buffer,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        hostname,
        port,
        method: 'POST',
        path: `/api/v1${path}`,
        headers: {
          'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
          'content-length': String(body.length),
          ...(key ? { authorization: `Bearer ${key}` } : {}),
          ...headers,
        },
      },
      readResponse(resolve, reject),
    );
    // The server may answer and close before reading all of a refused body: that is not the test's failure.
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
    });
    req.end(body);
  });
}
