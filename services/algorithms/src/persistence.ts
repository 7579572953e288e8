/**
 * Persistence of drift over consecutive windows: a signal persists when it was on in at least
 * `required` of the last `windows` windows (the current one included), and clears after
 * `windows − required + 1` windows without it. One unlucky window, which
 * a calibrated test produces at the configured false-alarm rate, never persists on its own: with
 * per-window rate α and the default 2 of 3, a stationary stream persists on about 3·α² of windows.
 * Pure: the caller passes the signals of the previous windows (newest first).
 */
export type PersistenceSettings = { windows: number; required: number };

export const DEFAULT_PERSISTENCE: Readonly<PersistenceSettings> = Object.freeze({ windows: 3, required: 2 });
export const MAX_PERSISTENCE_WINDOWS = 20;

export type WindowSignals = { datasetDrift: boolean; driftedFeatures: string[] };

export type Persistence = PersistenceSettings & {
  /** Windows considered (fewer than `windows` right after a new model). */
  seen: number;
  /** Windows among them with dataset drift. */
  datasetWindows: number;
  datasetDrift: boolean;
  /** Features that drifted in at least `required` of the windows, with their counts. */
  features: { name: string; windows: number }[];
};

export function checkPersistence(s: PersistenceSettings): void {
  if (!Number.isInteger(s.windows) || s.windows < 1 || s.windows > MAX_PERSISTENCE_WINDOWS)
    throw new RangeError(`persistence windows must be an integer in [1, ${MAX_PERSISTENCE_WINDOWS}], got ${s.windows}`);
  if (!Number.isInteger(s.required) || s.required < 1 || s.required > s.windows)
    throw new RangeError(`persistence required must be an integer in [1, windows], got ${s.required}`);
}

export function persistentDrift(
  current: WindowSignals,
  previous: readonly WindowSignals[],
  settings: PersistenceSettings = DEFAULT_PERSISTENCE,
): Persistence {
  checkPersistence(settings);
  const recent = [current, ...previous.slice(0, settings.windows - 1)];
  const datasetWindows = recent.filter((w) => w.datasetDrift).length;
  const counts = new Map<string, number>();
  for (const w of recent) for (const f of new Set(w.driftedFeatures)) counts.set(f, (counts.get(f) ?? 0) + 1);
  const features = [...counts].filter(([, n]) => n >= settings.required).map(([name, windows]) => ({ name, windows }));
  return {
    ...settings,
    seen: recent.length,
    datasetWindows,
    datasetDrift: datasetWindows >= settings.required,
    features,
  };
}
