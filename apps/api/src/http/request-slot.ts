import type { IncomingMessage } from 'node:http';

/**
 * Data a middleware attaches to one request, kept on the request object under a symbol private to its module —
 * never in a `WeakMap` keyed by the request. V8's young-generation collector (the scavenger) treats the values of
 * an old-space WeakMap as reachable, whatever their keys: each request's state (which points back at the request
 * and its response) survived every scavenge and was promoted to the old generation, until the next full
 * collection. On key-authenticated requests that was 8–9 MB copied per scavenge, 12–16 ms pauses where a plain
 * route paused 4 ms — the largest single cost #17's profile showed. A property dies with its request.
 */
export interface RequestSlot<T> {
  get(req: IncomingMessage): T | undefined;
  set(req: IncomingMessage, value: T): void;
  /** Takes the value out (a held error is raised once). */
  take(req: IncomingMessage): T | undefined;
}

export function requestSlot<T>(name: string): RequestSlot<T> {
  const key = Symbol(name);
  type Holder = IncomingMessage & { [key]?: T };
  return {
    get: (req) => (req as Holder)[key],
    set: (req, value) => {
      (req as Holder)[key] = value;
    },
    take: (req) => {
      const value = (req as Holder)[key];
      if (value !== undefined) (req as Holder)[key] = undefined;
      return value;
    },
  };
}
