import { readdirSync, readFileSync } from 'node:fs';
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requestSlot } from './request-slot.ts';

const request = () => new IncomingMessage(new Socket());

describe('requestSlot', () => {
  it('keeps a value per request, invisible to other slots and other requests', () => {
    const a = requestSlot<string>('a');
    const b = requestSlot<string>('a'); // same name, different slot
    const one = request();
    const two = request();
    a.set(one, 'x');
    expect(a.get(one)).toBe('x');
    expect(b.get(one)).toBeUndefined();
    expect(a.get(two)).toBeUndefined();
    expect(Object.keys(one)).not.toContain('a');
  });

  it('take returns the value once', () => {
    const held = requestSlot<{ error: unknown }>('held');
    const req = request();
    expect(held.take(req)).toBeUndefined();
    held.set(req, { error: 'boom' });
    expect(held.take(req)).toEqual({ error: 'boom' });
    expect(held.take(req)).toBeUndefined();
  });
});

/**
 * The regression guard: a WeakMap keyed by a request keeps every request's state alive through V8's young-generation
 * collections (its values are treated as reachable), which made key-authenticated requests promote ~8 MB per
 * scavenge (#17). Per-request data goes in a requestSlot.
 */
describe('no per-request WeakMap in the API', () => {
  const SRC = join(import.meta.dirname, '..');
  const files = (readdirSync(SRC, { recursive: true }) as string[]).filter(
    (f) => f.endsWith('.ts') && !f.endsWith('.test.ts'),
  );

  it('finds the sources', () => {
    expect(files.length).toBeGreaterThan(50);
  });

  it('keys no WeakMap by a request or response', () => {
    const offenders = files.filter((f) =>
      /WeakMap<\s*(Request|Response|IncomingMessage|ServerResponse)\b/.test(
        readFileSync(join(SRC, f), 'utf8'),
      ),
    );
    expect(offenders).toEqual([]);
  });
});
