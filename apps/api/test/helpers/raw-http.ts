import { type IncomingMessage, request } from 'node:http';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/**
 * One HTTP request with the path sent byte for byte, as an attacker's tool sends it: fetch and URL would normalise
 * `.` and `..` segments, `%2e` and backslashes before they ever reach the server.
 */
export function raw(
  baseUrl: string,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: unknown } = {},
): Promise<RawResponse> {
  const url = new URL(baseUrl);
  const port = url.port;
  // URL keeps an IPv6 host bracketed; the socket API wants it bare.
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        hostname,
        port,
        method,
        path,
        headers: {
          ...(body !== undefined
            ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }
            : {}),
          ...options.headers,
        },
      },
      readResponse(resolve, reject),
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The response callback of the raw helpers: the whole body as text, with status and headers. */
export function readResponse(
  resolve: (response: RawResponse) => void,
  reject: (error: Error) => void,
): (res: IncomingMessage) => void {
  return (res) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () =>
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        text: Buffer.concat(chunks).toString('utf8'),
      }),
    );
    res.on('error', reject);
  };
}

/** The names of the policies a response was charged to, from its RateLimit-Policy header. */
export function chargedPolicies(res: { headers: Record<string, string | string[] | undefined> }): string[] {
  const header = res.headers['ratelimit-policy'];
  const text = Array.isArray(header) ? header.join(', ') : (header ?? '');
  return [...text.matchAll(/"([^"]+)";q=/g)].map((m) => m[1] ?? '');
}

/** The `r` (remaining units) of one policy in a response's RateLimit header. */
export function remaining(
  res: { headers: Record<string, string | string[] | undefined> },
  policy: string,
): number | null {
  const header = res.headers.ratelimit;
  const text = Array.isArray(header) ? header.join(', ') : (header ?? '');
  const match = new RegExp(`"${policy}";r=(\\d+)`).exec(text);
  return match ? Number(match[1]) : null;
}
