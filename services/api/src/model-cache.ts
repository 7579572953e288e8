// Stored model versions never change, so a body read once serves every later request for that
// version; Postgres is still asked which version is the latest on each request, so a new model
// is used as soon as it is committed. Reading and parsing a model with its reference profile
// (hundreds of KB of JSON) on every /detect was most of that route's cost.

/**
 * Heap bytes per stored JSON byte of a model and its reference profile once parsed and compiled
 * for scoring (the scorer keeps typed-array copies of the trees). Measured on isolation forests
 * from 100 trees × 256 samples (1.8) to 1000 trees × 4096 samples (3.8); 4 covers them all.
 */
export const HEAP_BYTES_PER_STORED_BYTE = 4;

export { ModelCache } from '@pynomaly/shared';
