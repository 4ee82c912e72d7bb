import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import {
  DomainError,
  IDEMPOTENCY_RECORD_TTL_MS,
  idempotencyDecision,
  isValidIdempotencyKey,
  type StoredIdempotency,
} from '@crowdee/core';
import type { Request, RequestHandler, Response } from 'express';
import { normalizePath } from 'trpc-to-openapi';
import type { AppDeps } from '../app-deps.ts';
import type { Auth } from '../context.ts';
import { sqlDate } from '../services/sql.ts';
import { requestSlot } from './request-slot.ts';
import { getRequestState } from './request-state.ts';
import { discardUnreadBody } from './unread-body.ts';

/**
 * `Idempotency-Key` for every REST POST (draft-ietf-httpapi-idempotency-key-header): the first request with a key
 * claims it in PostgreSQL (so every API node sees the claim), runs, and its 2xx answer is stored for 24 hours. The
 * same key again from the same credential with the same method, path and byte-identical body gets that answer
 * replayed (`Idempotent-Replayed: true`) without running anything; another request under the key gets 422
 * IDEMPOTENCY_KEY_REUSED; a twin arriving while the first still runs gets 409 IDEMPOTENCY_KEY_IN_USE. Records are
 * keyed by the credential that sent them, so a replay never shows one caller's answer to another. Non-2xx answers
 * are not stored (the key is released, so the caller can fix the request and retry with it).
 */

/** How long a first request may hold its key before a retry may take over (its node may have died). */
export const IDEMPOTENCY_LEASE_MS = 5 * 60 * 1000;
const HEADER = 'idempotency-key';
const EMPTY_BODY = createHash('sha256').update('').digest('hex');
/** Expired records are swept every this many claims (per process), a bounded number at a time. */
const SWEEP_EVERY = 100;
const SWEEP_BATCH = 1000;

const fingerprints = requestSlot<string>('crowdee.bodyFingerprint');

/** Called by the JSON body parser with the raw bytes it read. */
export function recordBodyFingerprint(req: IncomingMessage, body: Buffer): void {
  fingerprints.set(req, createHash('sha256').update(body).digest('hex'));
}

/** Called by a route that streams its own body (multipart uploads), once it has read it all. */
export function setStreamedFingerprint(req: IncomingMessage, fingerprint: string): void {
  fingerprints.set(req, fingerprint);
}

/**
 * Whose records a request reads and writes: a key's own (`key:<id>`; another key of the same user, perhaps scoped
 * to other organizations, must not replay its answers), or a user's for session tokens (short-lived and refreshed,
 * they act with the user's full roles). Null for callers without valid credentials: nothing to confine a stored
 * answer to, so their requests are never recorded.
 */
function principalOf(auth: Auth | undefined): string | null {
  switch (auth?.kind) {
    case 'key':
      return `key:${auth.key.id}`;
    case 'session-token':
      return `user:${auth.token.creator.id}`;
    case 'session':
      return `user:${auth.user.id}`;
    default:
      return null;
  }
}

interface RecordRow {
  id: string;
  method: string;
  path: string;
  fingerprint: string | null;
  status: number | null;
  content_type: string | null;
  response_body: string | null;
  locked_until: Date | string;
  expires_at: Date | string;
}

function stored(row: RecordRow): StoredIdempotency {
  return {
    method: row.method,
    path: row.path,
    fingerprint: row.fingerprint,
    status: row.status,
    lockedUntil: sqlDate(row.locked_until),
    expiresAt: sqlDate(row.expires_at),
  };
}

function hashRest(req: Request, limitBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let total = 0;
    req.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > limitBytes) {
        req.pause();
        reject(new DomainError('PAYLOAD_TOO_LARGE'));
        return;
      }
      hash.update(chunk);
    });
    req.on('end', () => resolve(hash.digest('hex')));
    req.on('aborted', () => reject(new DomainError('BAD_REQUEST', 'The request was aborted.')));
  });
}

export interface IdempotencyOptions {
  /** Requests whose body a later route streams (unread here); their body is hashed as it is read. */
  streamed: (req: Request) => boolean;
  /** The largest streamed body: hashing one to compare it with a stored request reads at most this much. */
  streamedMaxBytes: number;
}

export function idempotency(deps: AppDeps, options: IdempotencyOptions): RequestHandler {
  let claims = 0;
  const db = () => deps.orm.em.getConnection();

  async function claim(row: {
    principal: string;
    key: string;
    method: string;
    path: string;
    fingerprint: string | null;
    now: Date;
  }): Promise<{ claimed: string } | { existing: RecordRow } | { gone: true }> {
    const lockedUntil = new Date(row.now.getTime() + IDEMPOTENCY_LEASE_MS);
    const expiresAt = new Date(row.now.getTime() + IDEMPOTENCY_RECORD_TTL_MS);
    const inserted = await db().execute<{ id: string }[]>(
      `insert into idempotency_records
         (id, principal, key, method, path, fingerprint, status, content_type, response_body, locked_until, created_at, expires_at)
       values (?, ?, ?, ?, ?, ?, null, null, null, ?, ?, ?)
       on conflict (principal, key) do nothing returning id`,
      [
        randomUUID(),
        row.principal,
        row.key,
        row.method,
        row.path,
        row.fingerprint,
        lockedUntil,
        row.now,
        expiresAt,
      ],
      'all',
    );
    if (inserted[0]) {
      if (++claims % SWEEP_EVERY === 0) void sweep(row.now);
      return { claimed: inserted[0].id };
    }
    const [existing] = await db().execute<RecordRow[]>(
      'select id, method, path, fingerprint, status, content_type, response_body, locked_until, expires_at from idempotency_records where principal = ? and key = ?',
      [row.principal, row.key],
      'all',
    );
    return existing ? { existing } : { gone: true };
  }

  /** Takes over an expired record, or an in-flight one whose lease ran out; false if another request got it. */
  async function takeOver(
    id: string,
    row: { method: string; path: string; fingerprint: string | null; now: Date },
  ): Promise<boolean> {
    const taken = await db().execute<{ id: string }[]>(
      `update idempotency_records
          set method = ?, path = ?, fingerprint = ?, status = null, content_type = null, response_body = null,
              locked_until = ?, created_at = ?, expires_at = ?
        where id = ? and (expires_at <= ? or (status is null and locked_until <= ?))
        returning id`,
      [
        row.method,
        row.path,
        row.fingerprint,
        new Date(row.now.getTime() + IDEMPOTENCY_LEASE_MS),
        row.now,
        new Date(row.now.getTime() + IDEMPOTENCY_RECORD_TTL_MS),
        id,
        row.now,
        row.now,
      ],
      'all',
    );
    return taken.length > 0;
  }

  async function sweep(now: Date): Promise<void> {
    try {
      await db().execute(
        'delete from idempotency_records where id in (select id from idempotency_records where expires_at <= ? limit ?)',
        [now, SWEEP_BATCH],
      );
    } catch (error) {
      deps.logger.warn({ err: error }, 'sweeping expired idempotency records failed');
    }
  }

  /**
   * Stores the 2xx answer of the request holding record `id`, or releases the key for any other outcome — before the
   * answer's last byte leaves: a client that retries the moment it has the answer (or fixes a refused request and
   * sends it again) must find the stored answer or the released key, never its own claim still "in use" (409).
   */
  function capture(req: Request, res: Response, id: string): void {
    const chunks: Buffer[] = [];
    const write = res.write.bind(res) as (...args: unknown[]) => boolean;
    const end = res.end.bind(res) as (...args: unknown[]) => Response;
    const keep = (chunk: unknown, encoding: unknown) => {
      if (typeof chunk === 'string')
        chunks.push(Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8'));
      else if (chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk));
    };
    let settled = false;
    const settle = (finished: boolean): Promise<unknown> => {
      if (settled) return Promise.resolve();
      settled = true;
      const ok = finished && res.statusCode >= 200 && res.statusCode < 300;
      const work = ok
        ? db().execute(
            'update idempotency_records set status = ?, content_type = ?, response_body = ?, fingerprint = coalesce(fingerprint, ?), locked_until = ? where id = ?',
            [
              res.statusCode,
              String(res.getHeader('content-type') ?? 'application/json'),
              Buffer.concat(chunks).toString('utf8'),
              fingerprints.get(req) ?? null,
              deps.clock(),
              id,
            ],
          )
        : db().execute('delete from idempotency_records where id = ? and status is null', [id]);
      return work.catch((error: unknown) =>
        deps.logger.error({ err: error }, 'storing an idempotent answer failed'),
      );
    };
    res.write = ((...args: unknown[]) => {
      keep(args[0], args[1]);
      return write(...args);
    }) as Response['write'];
    res.end = ((...args: unknown[]) => {
      if (typeof args[0] !== 'function') keep(args[0], args[1]);
      // The whole answer is known here: record it (or release the key), then let it go out.
      void settle(true).finally(() => end(...args));
      return res;
    }) as Response['end'];
    // A connection that dies before the answer is complete releases the key.
    res.on('close', () => void settle(false));
  }

  return async (req, res, next) => {
    if (req.method !== 'POST') return next();
    const key = req.headers[HEADER];
    if (key === undefined) return next();
    if (typeof key !== 'string' || !isValidIdempotencyKey(key)) {
      const message = 'An Idempotency-Key is 1–255 printable ASCII characters.';
      const error = new DomainError('VALIDATION_FAILED', message, {
        fieldErrors: [{ path: 'Idempotency-Key', message }],
      });
      return refuse(req, res, next, error, options.streamedMaxBytes);
    }
    const principal = principalOf(getRequestState(req)?.auth);
    if (principal === null) return next();
    const streamed = options.streamed(req);
    const request = {
      principal,
      key,
      method: req.method,
      // One spelling per route: trailing slashes and case do not make another request.
      path: normalizePath(new URL(req.url, 'http://127.0.0.1').pathname).toLowerCase(),
      fingerprint: streamed ? null : (fingerprints.get(req) ?? EMPTY_BODY),
      now: deps.clock(),
    };
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        const outcome = await claim(request);
        if ('gone' in outcome) continue;
        if ('claimed' in outcome) {
          capture(req, res, outcome.claimed);
          return next();
        }
        const record = stored(outcome.existing);
        let fingerprint = request.fingerprint;
        const finishedTwin =
          record.status !== null &&
          record.expiresAt > request.now &&
          record.method === request.method &&
          record.path === request.path;
        if (fingerprint === null && finishedTwin) fingerprint = await hashRest(req, options.streamedMaxBytes);
        const decision =
          fingerprint === null && record.status === null && record.lockedUntil > request.now
            ? 'in-use'
            : idempotencyDecision(record, { ...request, fingerprint: fingerprint ?? '' }, request.now);
        switch (decision) {
          case 'replay': {
            const row = outcome.existing;
            res.status(row.status ?? 200);
            res.setHeader('Idempotent-Replayed', 'true');
            res.setHeader('Content-Type', row.content_type ?? 'application/json');
            res.send(row.response_body ?? '');
            return;
          }
          case 'reused':
            return refuse(
              req,
              res,
              next,
              new DomainError('IDEMPOTENCY_KEY_REUSED'),
              options.streamedMaxBytes,
            );
          case 'in-use':
            return refuse(
              req,
              res,
              next,
              new DomainError('IDEMPOTENCY_KEY_IN_USE'),
              options.streamedMaxBytes,
            );
          default:
            if (await takeOver(outcome.existing.id, request)) {
              capture(req, res, outcome.existing.id);
              return next();
            }
        }
      }
      refuse(req, res, next, new DomainError('IDEMPOTENCY_KEY_IN_USE'), options.streamedMaxBytes);
    } catch (error) {
      refuse(req, res, next, error, options.streamedMaxBytes);
    }
  };
}

/** Answers with an error, disposing of a streamed body left unread. */
function refuse(
  req: Request,
  res: Response,
  next: (error: unknown) => void,
  error: unknown,
  maxBytes: number,
): void {
  discardUnreadBody(req, res, maxBytes);
  next(error);
}
