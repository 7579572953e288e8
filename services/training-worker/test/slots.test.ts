import { describe, expect, it } from 'vitest';
import { Slots } from '../src/slots.js';

describe('Slots', () => {
  it('admits up to its size and hands a released slot to the next waiter in order', async () => {
    const slots = new Slots(1);
    const first = await slots.acquire();
    const order: string[] = [];
    const a = slots.acquire().then((r) => (order.push('a'), r));
    const b = slots.acquire().then((r) => (order.push('b'), r));
    await Promise.resolve();
    expect(order).toEqual([]);
    first();
    first(); // releasing twice frees one slot only
    const ra = await a;
    expect(order).toEqual(['a']);
    ra();
    (await b)();
    expect(order).toEqual(['a', 'b']);
  });

  it('drops an aborted waiter without losing the slot', async () => {
    const slots = new Slots(1);
    const held = await slots.acquire();
    const ac = new AbortController();
    const waiting = slots.acquire(ac.signal);
    ac.abort('job cancelled');
    await expect(waiting).rejects.toBe('job cancelled');
    held();
    const again = await slots.acquire();
    again();
  });
});
