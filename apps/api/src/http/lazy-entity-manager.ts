import type { EntityManager } from '@mikro-orm/postgresql';
import type { AppDeps } from '../app-deps.ts';

/**
 * A request-scoped EntityManager that is forked only when first used. Requests answered from the key cache
 * (the hot path) never touch the database, and forking costs a unit of work and an identity map each time.
 * A proxy rather than a getter, because tRPC copies the context object between middlewares, which would
 * trigger a getter on every request.
 */
export function lazyFork(deps: Pick<AppDeps, 'orm'>): EntityManager {
  let forked: EntityManager | undefined;
  const real = (): EntityManager => {
    forked ??= deps.orm.em.fork();
    return forked;
  };
  return new Proxy({} as EntityManager, {
    get(_target, prop) {
      const em = real();
      const value: unknown = Reflect.get(em, prop, em);
      return typeof value === 'function' ? value.bind(em) : value;
    },
    set(_target, prop, value) {
      return Reflect.set(real(), prop, value);
    },
    has(_target, prop) {
      return Reflect.has(real(), prop);
    },
    getPrototypeOf() {
      return Reflect.getPrototypeOf(real());
    },
  });
}
