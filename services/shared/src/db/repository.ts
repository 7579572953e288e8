/**
 * Repository functions over the schema in services/shared/migrations, one module per aggregate.
 * Each function takes a Queryable so it runs either on the pool or inside a caller's transaction.
 */
export * from './repository/matrix-bytes.js';
export * from './repository/datasets.js';
export * from './repository/detectors.js';
export * from './repository/jobs.js';
export * from './repository/models.js';
export * from './repository/drift.js';
export * from './repository/alerts.js';
export * from './repository/outbox.js';
export * from './repository/state.js';
export * from './repository/retention.js';
export * from './repository/tombstones.js';
export * from './repository/dead-letters.js';
export * from './repository/slack-messages.js';
