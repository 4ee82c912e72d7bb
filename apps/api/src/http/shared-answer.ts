/**
 * Answers computed once and served to many requests — a key's `GET /api/v1/me`, kept with its cache entry — are
 * deep-frozen and registered here, so what every request would otherwise redo on the same object is done once per
 * object: validating it against the procedure's output schema (call-procedure.ts) and serializing it (`toJson`).
 * Registered objects cannot change, so a result remembered for one is the result for it forever. Plain objects and
 * arrays only; anything else is left as it is (and not registered).
 */
const shared = new WeakSet<object>();
const serialized = new WeakMap<object, string>();

export function shareAnswer<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !shared.has(value)) {
    for (const child of Object.values(value)) shareAnswer(child);
    Object.freeze(value);
    shared.add(value);
  }
  return value;
}

export function isSharedAnswer(value: unknown): value is object {
  return value !== null && typeof value === 'object' && shared.has(value);
}

/** `JSON.stringify(value)`, remembered for a shared answer. */
export function toJson(value: unknown): string | undefined {
  if (!isSharedAnswer(value)) return JSON.stringify(value);
  let json = serialized.get(value);
  if (json === undefined) {
    json = JSON.stringify(value);
    serialized.set(value, json);
  }
  return json;
}
