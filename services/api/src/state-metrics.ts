/** The API's scrape gauges: state read from Postgres at scrape time (one snapshot per scrape). */
import { repo, sharedSnapshot, type ScrapeMetrics, type StateSnapshot } from '@pynomaly/shared';

/** The parts of a stored drift report (drift worker's namedResult) the gauges read. */
type ReportFeature = {
  name?: string;
  feature: number;
  psi: number;
  ksStatistic: number;
  ksPValue: number;
  wassersteinNormalized: number;
  pValueHolm?: number;
  qValue?: number;
  meanShiftSigma?: number;
};
type ReportPersistence = { datasetDrift: boolean; features: { name: string }[] };

function reportFeatures(result: unknown): ReportFeature[] {
  return (result as { features?: ReportFeature[] }).features ?? [];
}

function reportPersistence(result: unknown): ReportPersistence | undefined {
  return (result as { persistence?: ReportPersistence }).persistence;
}

export function defineApiGauges(scrape: ScrapeMetrics, load: () => Promise<StateSnapshot>): void {
  const snapshot = sharedSnapshot(load);
  scrape.define('pynomaly_datasets', async (g) => {
    g.set((await snapshot()).datasets);
  });
  scrape.define('pynomaly_detectors', async (g) => {
    const s = await snapshot();
    g.reset();
    for (const d of s.detectors) g.set({ algorithm: d.algorithm, status: d.status }, d.count);
  });
  scrape.define('pynomaly_jobs', async (g) => {
    const s = await snapshot();
    g.reset();
    // Every state is present (as 0 when empty) so rate()/absent() behave on a fresh system.
    for (const state of repo.JOB_STATES) g.set({ type: 'training', state }, 0);
    for (const j of s.jobs) g.set({ type: j.type, state: j.state }, j.count);
  });
  scrape.define('pynomaly_oldest_queued_job_age_seconds', async (g) => {
    const s = await snapshot();
    g.reset();
    g.set({ type: 'training' }, 0);
    for (const o of s.oldestQueuedAgeSeconds) g.set({ type: o.type }, o.seconds);
  });
  scrape.define('pynomaly_outbox_pending_events', async (g) => {
    g.set((await snapshot()).outboxPending);
  });
  scrape.define('pynomaly_outbox_oldest_pending_age_seconds', async (g) => {
    g.set((await snapshot()).outboxOldestPendingAgeSeconds);
  });
  scrape.define('pynomaly_retention_last_success_timestamp_seconds', async (g) => {
    const s = await snapshot();
    g.reset();
    if (s.retentionLastSuccess !== null) g.set(s.retentionLastSuccess);
  });
  scrape.define('pynomaly_model_age_seconds', async (g) => {
    const s = await snapshot();
    g.reset();
    for (const m of s.models) g.set({ detector_id: m.detectorId }, m.ageSeconds);
  });
  scrape.define('pynomaly_model_version', async (g) => {
    const s = await snapshot();
    g.reset();
    for (const m of s.models) g.set({ detector_id: m.detectorId }, m.version);
  });
  scrape.define('pynomaly_last_training_success_timestamp_seconds', async (g) => {
    const s = await snapshot();
    g.reset();
    if (s.lastTrainingSuccess !== null) g.set(s.lastTrainingSuccess);
  });
  scrape.define('pynomaly_drift_score', async (g) => {
    const s = await snapshot();
    g.reset();
    for (const r of s.drift) {
      for (const f of reportFeatures(r.result)) {
        const labels = { detector_id: r.detectorId, feature: f.name ?? String(f.feature) };
        g.set({ ...labels, statistic: 'psi' }, f.psi);
        g.set({ ...labels, statistic: 'ks_statistic' }, f.ksStatistic);
        g.set({ ...labels, statistic: 'ks_pvalue' }, f.ksPValue);
        g.set({ ...labels, statistic: 'wasserstein_normalized' }, f.wassersteinNormalized);
        // Absent in reports written before the calibrated decision.
        if (f.pValueHolm !== undefined) g.set({ ...labels, statistic: 'p_value_holm' }, f.pValueHolm);
        if (f.qValue !== undefined) g.set({ ...labels, statistic: 'q_value_bh' }, f.qValue);
        if (f.meanShiftSigma !== undefined) g.set({ ...labels, statistic: 'mean_shift_sigma' }, f.meanShiftSigma);
      }
    }
  });
  scrape.define('pynomaly_drift_detected', async (g) => {
    const s = await snapshot();
    g.reset();
    for (const r of s.drift) {
      const persistent = reportPersistence(r.result)?.datasetDrift ?? r.datasetDrift;
      g.set({ detector_id: r.detectorId }, persistent ? 1 : 0);
    }
  });
  scrape.define('pynomaly_drift_feature_drift_sigma', async (g) => {
    const s = await snapshot();
    g.reset();
    for (const r of s.drift) {
      const persistent = new Set(reportPersistence(r.result)?.features.map((f) => f.name) ?? []);
      for (const f of reportFeatures(r.result)) {
        const feature = f.name ?? String(f.feature);
        const effect = Math.max(Math.abs(f.meanShiftSigma ?? 0), f.wassersteinNormalized);
        g.set({ detector_id: r.detectorId, feature }, persistent.has(feature) ? effect : 0);
      }
    }
  });
  scrape.define('pynomaly_drift_share', async (g) => {
    const s = await snapshot();
    g.reset();
    for (const r of s.drift) g.set({ detector_id: r.detectorId }, r.driftShare);
  });
  scrape.define('pynomaly_drift_last_report_timestamp_seconds', async (g) => {
    const s = await snapshot();
    g.reset();
    for (const r of s.drift) g.set({ detector_id: r.detectorId }, new Date(r.createdAt).getTime() / 1000);
  });
}
