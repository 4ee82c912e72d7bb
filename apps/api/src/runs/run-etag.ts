/** A run's entity tag: its version, which goes up on every change of what `GET …/runs/{runId}` answers. */
export function runETag(version: number): string {
  return `"v${version}"`;
}

/**
 * Whether an `If-None-Match` header matches `etag` (RFC 9110 §13.1.2: weak comparison, a list, or `*`).
 */
export function ifNoneMatchMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const trimmed = header.trim();
  if (trimmed === '*') return true;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  const want = opaque(etag);
  return trimmed.split(',').some((tag) => opaque(tag) === want);
}
