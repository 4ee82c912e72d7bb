/**
 * Reading the `retryAfter` and violated policy our problem+json and tRPC error bodies carry, for when a proxy
 * dropped the headers. Pure functions, lenient like the header parsers in packages/core: anything unreadable is
 * `undefined`.
 */

const DELTA_SECONDS = /^\d+(?:\.\d+)?$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asSeconds(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  if (typeof value === 'string' && DELTA_SECONDS.test(value.trim())) return Number(value.trim());
  return undefined;
}

/**
 * Finds `retryAfter` (seconds) in a 429 body: the REST problem+json top level, a tRPC error
 * (`error.data.retryAfter`, or `error.json.data.retryAfter` with a transformer), or a tRPC batch (an array:
 * the longest wait wins).
 */
export function retryAfterSecondsFromBody(body: unknown): number | undefined {
  if (Array.isArray(body)) {
    let longest: number | undefined;
    for (const entry of body) {
      const seconds = retryAfterSecondsFromBody(entry);
      if (seconds !== undefined && (longest === undefined || seconds > longest)) longest = seconds;
    }
    return longest;
  }
  if (!isRecord(body)) return undefined;
  const direct = asSeconds(body.retryAfter);
  if (direct !== undefined) return direct;
  const error = body.error;
  if (!isRecord(error)) return undefined;
  const envelope = isRecord(error.json) ? error.json : error;
  return isRecord(envelope.data) ? asSeconds(envelope.data.retryAfter) : undefined;
}

/** The first entry of problem+json `violated-policies`, naming the policy a 429 refers to. */
export function violatedPolicyFromBody(body: unknown): string | undefined {
  if (!isRecord(body)) return undefined;
  const policies = body['violated-policies'];
  if (!Array.isArray(policies)) return undefined;
  const first: unknown = policies[0];
  return typeof first === 'string' ? first : undefined;
}
