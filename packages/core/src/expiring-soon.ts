/** A key is flagged "Expires soon" this long before it stops: time to rotate it without an outage. */
export const KEY_EXPIRES_SOON_MS = 7 * 86_400_000;

/**
 * True while a key that expires is within `KEY_EXPIRES_SOON_MS` of its end and has not ended yet. A key that never
 * expires, or has already expired, is not "expiring soon" (the table shows those states on their own).
 */
export function keyExpiresSoon(expiresAt: Date | null, now: Date): boolean {
  if (expiresAt === null) return false;
  const left = expiresAt.getTime() - now.getTime();
  return left > 0 && left <= KEY_EXPIRES_SOON_MS;
}
