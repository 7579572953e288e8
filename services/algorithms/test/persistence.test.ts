import { describe, expect, it } from 'vitest';
import { persistentDrift, type WindowSignals } from '../src/index.js';

const w = (datasetDrift: boolean, ...driftedFeatures: string[]): WindowSignals => ({ datasetDrift, driftedFeatures });

describe('persistentDrift (k of the last m windows)', () => {
  it('never persists on one window, persists on 2 of 3, clears after 2 clean windows', () => {
    expect(persistentDrift(w(true, 'a'), []).datasetDrift).toBe(false);
    expect(persistentDrift(w(true, 'a'), [w(false), w(false)]).datasetDrift).toBe(false);
    const on = persistentDrift(w(true, 'a'), [w(false), w(true, 'a')]);
    expect(on).toMatchObject({ windows: 3, required: 2, seen: 3, datasetWindows: 2, datasetDrift: true });
    expect(on.features).toEqual([{ name: 'a', windows: 2 }]);
    expect(persistentDrift(w(false), [w(true), w(true)]).datasetDrift).toBe(true);
    expect(persistentDrift(w(false), [w(false), w(true), w(true)]).datasetDrift).toBe(false);
  });

  it('counts each feature on its own and only within the last m windows', () => {
    const p = persistentDrift(w(true, 'a', 'b'), [w(true, 'b'), w(true, 'a'), w(true, 'a')], {
      windows: 2,
      required: 2,
    });
    expect(p.features).toEqual([{ name: 'b', windows: 2 }]);
    expect(persistentDrift(w(true, 'x'), [], { windows: 1, required: 1 }).features).toEqual([
      { name: 'x', windows: 1 },
    ]);
  });

  it('rejects settings that cannot be met', () => {
    expect(() => persistentDrift(w(false), [], { windows: 3, required: 4 })).toThrow(/required must be/);
    expect(() => persistentDrift(w(false), [], { windows: 0, required: 1 })).toThrow(/windows must be/);
  });
});
