import type { Request, Response } from 'express';

/**
 * What to do with the rest of a request body a route refused before reading it all (a multipart upload answered
 * 401/403/404/413/409 early). Closing the socket on unread data makes TCP reset the connection, and clients then
 * often lose the answer we sent; so a body that fits the route's limit is read and thrown away while the answer goes
 * out, and the connection closes only for a body larger than the limit (declared, or found while discarding).
 */
export function discardUnreadBody(req: Request, res: Response, maxBytes: number): void {
  if (req.complete) return;
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    res.setHeader('Connection', 'close');
    return;
  }
  req.unpipe();
  req.removeAllListeners('data');
  let discarded = 0;
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > maxBytes) req.destroy();
  });
  req.resume();
}
