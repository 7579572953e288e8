export * from './config.js';
export * from './credentials.js';
export * from './logging.js';
export * from './telemetry.js';
export * from './metrics/catalog.js';
export * from './metrics/instruments.js';
export * from './metrics/scrape.js';
export * from './events/index.js';
export * from './kafka/index.js';
export * from './db/pool.js';
export * as repo from './db/repository.js';
export type {
  Algorithm,
  AlertRecord,
  DatasetMeta,
  DeleteDatasetResult,
  DeleteDetectorResult,
  DeleteModelResult,
  Detector,
  DriftModel,
  DriftReport,
  DeadLetter,
  DeadLetterState,
  Job,
  JobState,
  ListCursor,
  SlackMessage,
  ModelRecord,
  ModelSummary,
  OutboxMessage,
  StateSnapshot,
  StoredModel,
} from './db/repository.js';
export * from './outbox/relay.js';
export * from './lifecycle.js';
export * from './worker.js';
export * from './dead-letters.js';
export * from './retention.js';
export * from './training-budget.js';
export * from './model-cache.js';
