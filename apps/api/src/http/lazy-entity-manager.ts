import type { EntityManager } from '@mikro-orm/postgresql';
import type { AppDeps } from '../app-deps.ts';

/**
 * A request-scoped EntityManager that is forked only when first used. Requests answered from the key cache
 * (the hot path) never touch the database, and forking costs a unit of work and an identity map each time.
 * A proxy rather than a getter, because tRPC copies the context object between middlewares, which would
 * trigger a getter on every request.
 */
export function lazyFork(deps: Pick<AppDeps, 'orm'>): EntityManager {
  return new Proxy(new LazyFork(deps) as unknown as EntityManager, lazyForkHandler);
}

/**
 * The proxy's target: forks on first use. One object per request; the handler below is shared by all. Private
 * fields, so the target has no own properties for anything that looks at the proxy's keys (as the `{}` it replaces).
 */
class LazyFork {
  readonly #deps: Pick<AppDeps, 'orm'>;
  #forked: EntityManager | undefined;

  constructor(deps: Pick<AppDeps, 'orm'>) {
    this.#deps = deps;
  }

  real(): EntityManager {
    this.#forked ??= this.#deps.orm.em.fork();
    return this.#forked;
  }
}

const real = (target: object): EntityManager => (target as LazyFork).real();

const lazyForkHandler: ProxyHandler<EntityManager> = {
  get(target, prop) {
    const em = real(target);
    const value: unknown = Reflect.get(em, prop, em);
    return typeof value === 'function' ? value.bind(em) : value;
  },
  set(target, prop, value) {
    return Reflect.set(real(target), prop, value);
  },
  has(target, prop) {
    return Reflect.has(real(target), prop);
  },
  getPrototypeOf(target) {
    return Reflect.getPrototypeOf(real(target));
  },
};
