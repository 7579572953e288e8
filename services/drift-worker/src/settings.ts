/**
 * A detector's stored `driftThresholds` (validated by the API) split into the per-window settings
 * of the algorithm and the persistence rule the worker applies across windows.
 */
import { DEFAULT_PERSISTENCE, type DriftSettings, type PersistenceSettings } from '@pynomaly/algorithms';

const WINDOW_KEYS = [
  'falseAlarmRate',
  'featureFdr',
  'psiModerate',
  'psiMajor',
  'anomalyRateDelta',
  'ksPValue',
  'wassersteinNormalized',
  'sizeCutoff',
  'driftShare',
] as const satisfies readonly (keyof DriftSettings)[];

export function detectorDriftSettings(stored: Record<string, unknown> | undefined): {
  window: Partial<DriftSettings>;
  persistence: PersistenceSettings;
} {
  const s = stored ?? {};
  const window: Partial<DriftSettings> = {};
  for (const k of WINDOW_KEYS) if (typeof s[k] === 'number') window[k] = s[k];
  const num = (k: string, d: number) => (typeof s[k] === 'number' ? s[k] : d);
  return {
    window,
    persistence: {
      windows: num('persistenceWindows', DEFAULT_PERSISTENCE.windows),
      required: num('persistenceRequired', DEFAULT_PERSISTENCE.required),
    },
  };
}
