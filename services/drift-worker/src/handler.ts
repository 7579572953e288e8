/**
 * Drift worker: appends scored rows to a per-detector window persisted in Postgres and, each time
 * the window fills, compares it with the model's reference profile. Everything one message causes
 * (its rows, any report, any drift.detected event, the "processed" mark) commits in a single
 * transaction under the detector's window lock, so a redelivery or a restart neither loses rows
 * nor evaluates a window twice. The per-window decision is compareToReference (a pure function of
 * profile, rows and settings); persistence (k of the last m windows) is computed from the stored
 * reports of the same model, so it too is the same whether windows are evaluated one by one or in
 * a batch within one transaction.
 *
 * detections.scored messages are handled in batches (driftBatchHandler): consecutive messages of
 * one partition in one transaction, their rows appended per detector and model in one statement,
 * the windows they fill evaluated in order. Windows are cut from the rows in scoring order, so the
 * reports are the same whatever the batching; a batch that fails is retried message by message.
 */
import { randomUUID } from 'node:crypto';
import { context, trace, type Context } from '@opentelemetry/api';
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
  instruments,
  makeEvent,
  outboxMessage,
  parseEvent,
  PermanentError,
  repo,
  withTransaction,
  ModelCache,
  type BatchHandler,
  type DriftModel,
  type DriftReport,
  type Envelope,
  type Logger,
  type MessageHandler,
  type OutboxMessage,
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
  models: DriftModels;
  onEnqueued: () => void;
}

const GROUP = CONSUMER_GROUPS.driftWorker;

/**
 * Heap bytes per stored JSON byte of a reference profile once parsed (number arrays), plus the
 * sorted copies of its samples the drift statistics keep per profile object.
 */
const HEAP_BYTES_PER_PROFILE_BYTE = 3;

/**
 * The models the worker compares against, cached by id (a stored model version never changes;
 * the cached object also keeps its sorted reference samples). Existence is still asked of
 * Postgres on every load, in one query for all ids, so a deleted model is never used.
 */
export class DriftModels {
  private readonly cache: ModelCache<DriftModel>;

  constructor(maxBytes: number) {
    this.cache = new ModelCache<DriftModel>(maxBytes);
  }

  async load(client: PoolClient, ids: string[]): Promise<Map<string, DriftModel>> {
    const out = new Map<string, DriftModel>();
    const unique = [...new Set(ids)];
    for (const id of await repo.existingModelIds(client, unique)) {
      let model = this.cache.get(id);
      if (!model) {
        const loaded = await repo.getDriftModel(client, id);
        if (!loaded) continue;
        model = loaded.model;
        this.cache.set(id, model, loaded.storedBytes * HEAP_BYTES_PER_PROFILE_BYTE);
      }
      out.set(id, model);
    }
    return out;
  }

  async get(client: PoolClient, id: string): Promise<DriftModel | undefined> {
    return (await this.load(client, [id])).get(id);
  }
}

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
    const model = await deps.models.get(client, event.payload.modelId);
    if (!model) {
      if (await repo.wasDeleted(client, event.detectorId, event.payload.modelId)) {
        deps.logger.info({ detectorId: event.detectorId }, 'event for a deleted detector or model dropped');
        return;
      }
      throw new PermanentError('invalid_schema', `model ${event.payload.modelId} does not exist`);
    }
    const window = await repo.lockDriftWindow(client, event.detectorId, model.id);
    const current = window.modelId === model.id ? model : await deps.models.get(client, window.modelId);
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
  model: Pick<DriftModel, 'id' | 'version'>,
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

interface WindowRows {
  features: number[][];
  scores: number[];
  labels: number[];
}

/** Drift signals of stored reports, newest first: the history persistence needs. */
type Signals = Awaited<ReturnType<typeof repo.recentDriftSignals>>;

interface EvaluatedWindow {
  report: Omit<DriftReport, 'createdAt'>;
  /** The drift.detected outbox row, when the window drifted (headers carry its trace). */
  event: OutboxMessage | undefined;
  drifting: boolean;
  /** Persistence history after this window. */
  history: Signals;
  /** The fields of the "drift report stored" log line. */
  logged: Record<string, unknown>;
  computeMs: number;
  context: Context;
}

/**
 * Compares one full window with the reference and builds its report (and its drift.detected
 * event); storing is the caller's, for all windows of a call at once. `previous` is the
 * persistence history before this window, so consecutive windows need not read it back.
 */
function evaluateWindow(
  deps: DriftHandlerDeps,
  model: DriftModel,
  settings: { window: Partial<DriftSettings>; persistence: PersistenceSettings },
  windowIndex: number,
  w: WindowRows,
  previous: Signals,
): EvaluatedWindow {
  const started = performance.now();
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
  const signals = {
    datasetDrift: result.datasetDrift,
    driftedFeatures: result.features.filter((f) => f.drifted).map((f) => names[f.feature] ?? String(f.feature)),
  };
  const persistence = persistentDrift(signals, previous, settings.persistence);
  const scoreDrift = result.score.drifted;
  const anomalyRateDrift = result.anomalyRate?.drifted ?? false;
  const report = {
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
  };
  const drifting = result.datasetDrift || result.featureDrift || scoreDrift;
  const event = drifting
    ? outboxMessage(
        deps.topics['drift.detected'],
        makeEvent('drift.detected', model.detectorId, eventPayload(result, names, persistence, report, model)),
      )
    : undefined;
  return {
    report,
    event,
    drifting,
    history: [signals, ...previous].slice(0, Math.max(0, settings.persistence.windows - 1)),
    logged: {
      detectorId: model.detectorId,
      reportId: report.id,
      driftShare: result.driftShare,
      datasetDrift: result.datasetDrift,
      featureDrift: result.featureDrift,
      persistentDatasetDrift: persistence.datasetDrift,
      persistentFeatures: persistence.features.map((f) => f.name),
      scoreDrift,
    },
    computeMs: performance.now() - started,
    context: context.active(),
  };
}

/** Stores evaluated windows (reports, then their events) in two statements and reports them. */
async function storeWindows(deps: DriftHandlerDeps, client: PoolClient, done: EvaluatedWindow[]): Promise<boolean> {
  if (done.length === 0) return false;
  const started = performance.now();
  await repo.insertDriftReports(
    client,
    done[0]!.report.detectorId,
    done.map((d) => d.report),
  );
  await repo.enqueueOutboxMany(
    client,
    done.flatMap((d) => (d.event ? [d.event] : [])),
  );
  const storeMsEach = (performance.now() - started) / done.length;
  for (const d of done) {
    context.with(d.context, () => {
      instruments().driftChecks.add(1, { detector_id: d.report.detectorId, result: d.drifting ? 'drift' : 'no_drift' });
      instruments().driftCheckDuration.record((d.computeMs + storeMsEach) / 1000);
      deps.logger.info(d.logged, 'drift report stored');
    });
  }
  return done.some((d) => d.event !== undefined);
}

type DetectorSettings = ReturnType<typeof detectorDriftSettings>;

/**
 * Appends rows scored by one model to the detector's window and evaluates every window they
 * fill, in scoring order: the rows already waiting first, then the new ones. Rows that complete a
 * window in this call never go through the table; only what is left over waits there.
 * `completes(rowsBefore, k)` is the context (trace) of the message whose rows completed the k-th
 * window. Returns whether a drift.detected event was enqueued, or 'dropped'.
 */
async function appendAndEvaluate(
  deps: DriftHandlerDeps,
  client: PoolClient,
  model: DriftModel,
  settings: DetectorSettings,
  rows: WindowRows,
  completes: (rowsBefore: number, k: number) => Context,
): Promise<boolean | 'dropped'> {
  const detectorId = model.detectorId;
  const size = deps.windowSize;
  const window = await repo.lockDriftWindow(client, detectorId, model.id);
  let index = window.windowsCompleted;
  if (window.modelId !== model.id) {
    const current = await deps.models.get(client, window.modelId);
    if (current && current.version > model.version) return 'dropped';
    await repo.resetDriftWindow(client, detectorId, model.id);
    index = 0;
  }
  const waiting = await repo.countDriftWindowRows(client, detectorId, model.id);
  if (waiting + rows.features.length < size) {
    await repo.appendDriftWindowRows(client, detectorId, model.id, rows.features, rows.scores, rows.labels);
    return false;
  }
  const before = waiting > 0 ? await repo.takeDriftWindow(client, detectorId, model.id, null) : undefined;
  const all: WindowRows = before
    ? {
        features: before.features.concat(rows.features),
        scores: before.scores.concat(rows.scores),
        labels: before.labels.concat(rows.labels),
      }
    : rows;
  const rowsBefore = before?.features.length ?? 0;
  let history = await repo.recentDriftSignals(client, detectorId, model.id, settings.persistence.windows - 1);
  const done: EvaluatedWindow[] = [];
  let at = 0;
  for (let k = 0; all.features.length - at >= size; k++, at += size) {
    const w: WindowRows = {
      features: all.features.slice(at, at + size),
      scores: all.scores.slice(at, at + size),
      labels: all.labels.slice(at, at + size),
    };
    const out = context.with(completes(rowsBefore, k), () => evaluateWindow(deps, model, settings, index, w, history));
    done.push(out);
    history = out.history;
    index += 1;
  }
  const enqueued = await storeWindows(deps, client, done);
  if (at < all.features.length) {
    await repo.appendDriftWindowRows(
      client,
      detectorId,
      model.id,
      all.features.slice(at),
      all.scores.slice(at),
      all.labels.slice(at),
    );
  }
  return enqueued;
}

function checkFeatures(p: Envelope<'detections.scored'>['payload'], model: DriftModel): void {
  if (p.featureNames.length !== model.featureNames.length) {
    throw new PermanentError(
      'invalid_schema',
      `rows have ${p.featureNames.length} features, model ${model.id} has ${model.featureNames.length}`,
    );
  }
}

async function handleDetections(deps: DriftHandlerDeps, event: Envelope<'detections.scored'>): Promise<void> {
  let enqueued = false;
  await withTransaction(deps.pool, async (client) => {
    if (!(await repo.markEventProcessed(client, GROUP, event.id))) return;
    const p = event.payload;
    const model = await deps.models.get(client, p.modelId);
    if (!model || model.detectorId !== event.detectorId) {
      // Rows scored just before their detector or model was deleted: nothing left to compare with.
      if (await repo.wasDeleted(client, event.detectorId, p.modelId)) {
        deps.logger.info({ detectorId: event.detectorId }, 'rows for a deleted detector or model dropped');
        return;
      }
      throw new PermanentError('invalid_schema', `model ${p.modelId} of detector ${event.detectorId} does not exist`);
    }
    checkFeatures(p, model);
    const detector = await repo.getDetector(client, event.detectorId);
    const settings = detectorDriftSettings(detector?.driftThresholds);
    const rows = { features: p.rows, scores: p.scores, labels: p.labels };
    const outcome = await appendAndEvaluate(deps, client, model, settings, rows, () => context.active());
    if (outcome === 'dropped')
      deps.logger.debug({ detectorId: event.detectorId }, 'rows scored by an older model dropped');
    else if (outcome) enqueued = true;
  });
  if (enqueued) deps.onEnqueued();
}

/** Thrown inside a batch when a message needs the per-message path's decisions (drop or DLQ). */
class NeedsOneByOne extends Error {}

/**
 * detections.scored messages of one partition in one transaction. Anything unusual (an invalid
 * message, a deleted or unknown model) rolls the batch back, and the per-message handler then
 * decides each message as it always has.
 */
export function driftBatchHandler(deps: DriftHandlerDeps): BatchHandler {
  return async (items) => {
    const events = items.map((it) => {
      const parsed = parseEvent(it.msg.value, ['detections.scored']);
      if (!parsed.ok) throw new NeedsOneByOne(`offset ${it.msg.offset}: ${parsed.reason}`);
      return { event: parsed.event as Envelope<'detections.scored'>, context: it.context };
    });
    let enqueued = false;
    await context.with(items[0]!.context, () =>
      withTransaction(deps.pool, async (client) => {
        const fresh = await repo.markEventsProcessed(
          client,
          GROUP,
          events.map((e) => e.event.id),
        );
        // A redelivered event (processed before, or twice in this batch) is skipped, as one by one.
        const todo = events.filter((e) => fresh.delete(e.event.id.toLowerCase()));
        const models = await deps.models.load(
          client,
          todo.map((e) => e.event.payload.modelId),
        );
        const byDetector = new Map<string, typeof todo>();
        for (const e of todo) {
          const model = models.get(e.event.payload.modelId);
          if (!model || model.detectorId !== e.event.detectorId)
            throw new NeedsOneByOne(`model ${e.event.payload.modelId} of detector ${e.event.detectorId} not found`);
          if (model.featureNames.length !== e.event.payload.featureNames.length)
            throw new NeedsOneByOne(`feature count of event ${e.event.id}`);
          const list = byDetector.get(e.event.detectorId) ?? [];
          list.push(e);
          byDetector.set(e.event.detectorId, list);
        }
        for (const [detectorId, list] of byDetector) {
          const detector = await repo.getDetector(client, detectorId);
          const settings = detectorDriftSettings(detector?.driftThresholds);
          // Consecutive messages scored by one model form a run: one append, then its windows.
          for (let a = 0; a < list.length;) {
            let b = a + 1;
            while (b < list.length && list[b]!.event.payload.modelId === list[a]!.event.payload.modelId) b++;
            const run = list.slice(a, b);
            a = b;
            const model = models.get(run[0]!.event.payload.modelId)!;
            const ends: number[] = [];
            let total = 0;
            for (const e of run) ends.push((total += e.event.payload.rows.length));
            const rows = {
              features: run.flatMap((e) => e.event.payload.rows),
              scores: run.flatMap((e) => e.event.payload.scores),
              labels: run.flatMap((e) => e.event.payload.labels),
            };
            const completes = (rowsBefore: number, k: number) => {
              const needed = (k + 1) * deps.windowSize - rowsBefore;
              const i = ends.findIndex((end) => end >= needed);
              return run[i < 0 ? 0 : i]!.context;
            };
            const outcome = await appendAndEvaluate(deps, client, model, settings, rows, completes);
            if (outcome === 'dropped')
              deps.logger.debug({ detectorId, messages: run.length }, 'rows scored by an older model dropped');
            else if (outcome) enqueued = true;
          }
        }
      }),
    );
    if (enqueued) deps.onEnqueued();
  };
}
