/**
 * Drift worker: appends scored rows to a per-detector window persisted in Postgres and, each time
 * the window fills, compares it with the model's reference profile. Everything one message causes
 * (its rows, any report, any drift.detected event, the "processed" mark) commits in a single
 * transaction under the detector's window lock, so a redelivery or a restart neither loses rows
 * nor evaluates a window twice. The per-window decision is compareToReference (a pure function of
 * profile, rows and settings); persistence (k of the last m windows) is computed from the stored
 * reports of the same model, so it too is the same whether windows are evaluated one by one or in
 * a batch within one transaction.
 */
import { randomUUID } from 'node:crypto';
import { trace } from '@opentelemetry/api';
import {
  compareToReference,
  persistentDrift,
  type DriftResult,
  type DriftSettings,
  type Persistence,
  type PersistenceSettings,
  type ReferenceProfile,
} from '@pynomaly/algorithms';
import {
  CONSUMER_GROUPS,
  enqueueEvent,
  instruments,
  makeEvent,
  parseEvent,
  PermanentError,
  repo,
  withTransaction,
  type Envelope,
  type Logger,
  type MessageHandler,
  type ModelRecord,
  type Pool,
  type PoolClient,
  type Topics,
} from '@pynomaly/shared';
import { detectorDriftSettings } from './settings.js';

export interface DriftHandlerDeps {
  pool: Pool;
  topics: Topics;
  logger: Logger;
  windowSize: number;
  onEnqueued: () => void;
}

const GROUP = CONSUMER_GROUPS.driftWorker;

export function driftHandler(deps: DriftHandlerDeps): MessageHandler {
  return async (msg) => {
    const parsed = parseEvent(msg.value, ['detections.scored', 'training.completed']);
    if (!parsed.ok)
      throw new PermanentError(parsed.reason === 'unexpected_type' ? 'invalid_schema' : parsed.reason, parsed.error);
    const event = parsed.event;
    if (event.type === 'training.completed')
      await handleTrainingCompleted(deps, event as Envelope<'training.completed'>);
    else await handleDetections(deps, event as Envelope<'detections.scored'>);
  };
}

async function handleTrainingCompleted(deps: DriftHandlerDeps, event: Envelope<'training.completed'>): Promise<void> {
  await withTransaction(deps.pool, async (client) => {
    if (!(await repo.markEventProcessed(client, GROUP, event.id))) return;
    const model = await repo.getModel(client, event.payload.modelId);
    if (!model) {
      if (await repo.wasDeleted(client, event.detectorId, event.payload.modelId)) {
        deps.logger.info({ detectorId: event.detectorId }, 'event for a deleted detector or model dropped');
        return;
      }
      throw new PermanentError('invalid_schema', `model ${event.payload.modelId} does not exist`);
    }
    const window = await repo.lockDriftWindow(client, event.detectorId, model.id);
    const current = window.modelId === model.id ? model : await repo.getModel(client, window.modelId);
    // Only move forward: an older model's completion arriving late must not reset a newer window.
    if (!current || current.version <= model.version) await repo.resetDriftWindow(client, event.detectorId, model.id);
  });
  deps.logger.info(
    { detectorId: event.detectorId, modelId: event.payload.modelId },
    'drift window reset for new model',
  );
}

export function namedResult(result: DriftResult, featureNames: string[], persistence?: Persistence) {
  return {
    ...result,
    features: result.features.map((f) => ({ ...f, name: featureNames[f.feature] ?? String(f.feature) })),
    ...(persistence ? { persistence } : {}),
  };
}

/** The most features an event lists in detail; the stored report always has all of them. */
const EVENT_FEATURES = 50;

export function eventPayload(
  result: DriftResult,
  names: string[],
  persistence: Persistence,
  report: { id: string; windowRows: number },
  model: ModelRecord,
) {
  const name = (j: number) => names[j] ?? String(j);
  const signals = [
    ...(result.datasetDrift ? (['dataset'] as const) : []),
    ...(result.featureDrift ? (['feature'] as const) : []),
    ...(result.score.drifted ? (['score'] as const) : []),
  ];
  return {
    reportId: report.id,
    modelId: model.id,
    modelVersion: model.version,
    windowRows: report.windowRows,
    driftShare: result.driftShare,
    datasetDrift: result.datasetDrift,
    scoreDrift: result.score.drifted,
    anomalyRateDrift: result.anomalyRate?.drifted ?? false,
    driftedFeatures: result.features.filter((f) => f.drifted).map((f) => name(f.feature)),
    signals,
    featureDrift: result.featureDrift,
    persistentDatasetDrift: persistence.datasetDrift,
    persistentFeatures: persistence.features.map((f) => f.name),
    referenceRows: result.referenceRows,
    referenceSampleRows: result.referenceSampleRows,
    mode: result.mode,
    calibration: result.calibration,
    falseAlarmRate: result.thresholds.falseAlarmRate,
    featureAlpha: result.thresholds.featureAlpha,
    combined: result.combined,
    features: result.features
      .filter((f) => f.drifted || f.flagged)
      .slice(0, EVENT_FEATURES)
      .map((f) => ({
        name: name(f.feature),
        pValue: f.ksPValue,
        pValueHolm: f.pValueHolm,
        qValue: f.qValue,
        meanShiftSigma: f.meanShiftSigma,
        wassersteinSigma: f.wassersteinNormalized,
        psi: f.psi,
        effectSize: f.effectSize,
        drifted: f.drifted,
      })),
  };
}

async function evaluateWindow(
  deps: DriftHandlerDeps,
  client: PoolClient,
  model: ModelRecord,
  settings: { window: Partial<DriftSettings>; persistence: PersistenceSettings },
  windowIndex: number,
): Promise<boolean> {
  const started = performance.now();
  const w = await repo.takeDriftWindow(client, model.detectorId, model.id, deps.windowSize);
  const cols = model.featureNames.length;
  const data = new Float64Array(w.features.length * cols);
  w.features.forEach((r, i) => data.set(r, i * cols));
  const result = trace.getTracer('pynomaly').startActiveSpan('drift', (span) => {
    span.setAttribute('pynomaly.detector_id', model.detectorId);
    span.setAttribute('pynomaly.window_rows', w.features.length);
    try {
      return compareToReference(
        model.referenceProfile as ReferenceProfile,
        { data, rows: w.features.length, cols },
        Float64Array.from(w.scores),
        settings.window,
      );
    } finally {
      span.end();
    }
  });
  const names = model.featureNames;
  const previous = await repo.recentDriftSignals(client, model.detectorId, model.id, settings.persistence.windows - 1);
  const persistence = persistentDrift(
    {
      datasetDrift: result.datasetDrift,
      driftedFeatures: result.features.filter((f) => f.drifted).map((f) => names[f.feature] ?? String(f.feature)),
    },
    previous,
    settings.persistence,
  );
  const scoreDrift = result.score.drifted;
  const anomalyRateDrift = result.anomalyRate?.drifted ?? false;
  const report = await repo.insertDriftReport(client, {
    id: randomUUID(),
    detectorId: model.detectorId,
    modelId: model.id,
    modelVersion: model.version,
    windowIndex,
    windowRows: w.features.length,
    datasetDrift: result.datasetDrift,
    driftShare: result.driftShare,
    scoreDrift,
    anomalyRateDrift,
    result: namedResult(result, names, persistence),
  });
  const drifting = result.datasetDrift || result.featureDrift || scoreDrift;
  if (drifting) {
    await enqueueEvent(
      client,
      deps.topics['drift.detected'],
      makeEvent('drift.detected', model.detectorId, eventPayload(result, names, persistence, report, model)),
    );
  }
  instruments().driftChecks.add(1, { detector_id: model.detectorId, result: drifting ? 'drift' : 'no_drift' });
  instruments().driftCheckDuration.record((performance.now() - started) / 1000);
  deps.logger.info(
    {
      detectorId: model.detectorId,
      reportId: report.id,
      driftShare: result.driftShare,
      datasetDrift: result.datasetDrift,
      featureDrift: result.featureDrift,
      persistentDatasetDrift: persistence.datasetDrift,
      persistentFeatures: persistence.features.map((f) => f.name),
      scoreDrift,
    },
    'drift report stored',
  );
  return drifting;
}

async function handleDetections(deps: DriftHandlerDeps, event: Envelope<'detections.scored'>): Promise<void> {
  let enqueued = false;
  await withTransaction(deps.pool, async (client) => {
    if (!(await repo.markEventProcessed(client, GROUP, event.id))) return;
    const p = event.payload;
    const model = await repo.getModel(client, p.modelId);
    if (!model || model.detectorId !== event.detectorId) {
      // Rows scored just before their detector or model was deleted: nothing left to compare with.
      if (await repo.wasDeleted(client, event.detectorId, p.modelId)) {
        deps.logger.info({ detectorId: event.detectorId }, 'rows for a deleted detector or model dropped');
        return;
      }
      throw new PermanentError('invalid_schema', `model ${p.modelId} of detector ${event.detectorId} does not exist`);
    }
    if (p.featureNames.length !== model.featureNames.length) {
      throw new PermanentError(
        'invalid_schema',
        `rows have ${p.featureNames.length} features, model ${model.id} has ${model.featureNames.length}`,
      );
    }
    const window = await repo.lockDriftWindow(client, event.detectorId, model.id);
    if (window.modelId !== model.id) {
      const current = await repo.getModel(client, window.modelId);
      if (current && current.version > model.version) {
        deps.logger.debug({ detectorId: event.detectorId }, 'rows scored by an older model dropped');
        return;
      }
      await repo.resetDriftWindow(client, event.detectorId, model.id);
    }
    await repo.appendDriftWindowRows(client, event.detectorId, model.id, p.rows, p.scores, p.labels);
    const detector = await repo.getDetector(client, event.detectorId);
    const settings = detectorDriftSettings(detector?.driftThresholds);
    let index = (await repo.lockDriftWindow(client, event.detectorId, model.id)).windowsCompleted;
    while ((await repo.countDriftWindowRows(client, event.detectorId, model.id)) >= deps.windowSize) {
      if (await evaluateWindow(deps, client, model, settings, index)) enqueued = true;
      index += 1;
    }
  });
  if (enqueued) deps.onEnqueued();
}
