import type { NextFunction, Request, RequestHandler, Response } from 'express';

/**
 * Runs `handlers` in order as ONE Express middleware, with Express's rules for each step: a handler that calls
 * `next()` passes on to the following one; `next(error)` (or a throw, or a rejected promise) leaves the chain and
 * goes to Express's error handling; a handler that answers simply does not call `next`.
 *
 * Why: mounted as `app.use(path, a, b, c, …)`, Express makes a layer of each handler and, for every request, matches
 * the mount path, strips and restores `req.url` and checks the handler's return value once per layer — for the
 * fourteen steps of /api/v1 and the eleven of /trpc, and every request elsewhere still tries each of those layers.
 * One layer per mount does that once.
 */
export function chain(...handlers: RequestHandler[]): RequestHandler {
  const last = handlers.length;
  return (req: Request, res: Response, done: NextFunction) => {
    let index = 0;
    const next = (error?: unknown): void => {
      // As Express's router: a falsy value or 'route' goes on; anything else ('router' too) leaves for Express.
      if (error && error !== 'route') {
        done(error);
        return;
      }
      if (index === last) {
        done();
        return;
      }
      const handler = handlers[index++] as RequestHandler;
      try {
        const result: unknown = handler(req, res, next as NextFunction);
        if (isThenable(result))
          result.then(undefined, (rejection: unknown) => done(rejection || new Error('Rejected promise')));
      } catch (thrown) {
        done(thrown);
      }
    };
    next();
  };
}

/** `handler` for the requests `applies` to; every other request passes straight on (no promise, no work). */
export function when(applies: (req: Request) => boolean, handler: RequestHandler): RequestHandler {
  return (req, res, next) => (applies(req) ? handler(req, res, next) : next());
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
