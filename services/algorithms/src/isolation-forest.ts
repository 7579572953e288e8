/**
 * Isolation Forest (Liu, Ting & Zhou 2008), following scikit-learn's IsolationForest:
 * subsample min(maxSamples, n) rows without replacement per tree, grow to depth
 * ceil(log2(subsample)), split on a random non-constant feature at a uniform threshold in
 * [min, max), add c(size) at leaves, score 2^(-E[h] / c(subsample)).
 *
 * Trees are stored flat (one node table for the whole forest) so scoring is a tight loop over
 * plain arrays: no node objects, no allocation per row.
 */
import { assertFinite, assertMatrix, type Matrix } from './matrix.js';
import { mulberry32, randomInt, type Rng } from './random.js';
import { quantileSorted, sortedCopy } from './quantile.js';

export type IsolationForestParams = {
  nEstimators?: number;
  maxSamples?: number;
  contamination?: number;
  seed?: number;
};

/**
 * JSON-serialisable model. Node i of the forest: `feature[i] >= 0` is a split on that feature at
 * `value[i]` with children `left[i]` and `left[i] + 1`; `feature[i] === -1` is a leaf whose path
 * length (depth + c(leaf size)) is `value[i]`.
 */
export type IsolationForestModel = {
  kind: 'isolation_forest';
  version: 1;
  nFeatures: number;
  nEstimators: number;
  maxSamples: number;
  maxDepth: number;
  contamination: number;
  seed: number;
  /** Scores strictly above this are labelled anomalous (the (1 - contamination) training quantile). */
  threshold: number;
  roots: number[];
  feature: number[];
  value: number[];
  left: number[];
};

/** What fitIsolationForest uses for a parameter that is not given (scikit-learn's defaults). */
export const IFOREST_DEFAULTS = { nEstimators: 100, maxSamples: 256, contamination: 0.1, seed: 42 } as const;

const EULER_GAMMA = 0.5772156649015329;

/** Average path length of an unsuccessful BST search, c(n), as scikit-learn's _average_path_length. */
export function averagePathLength(n: number): number {
  if (n <= 1) return 0;
  if (n === 2) return 1;
  return 2 * (Math.log(n - 1) + EULER_GAMMA) - (2 * (n - 1)) / n;
}

type Growth = {
  x: Float64Array;
  cols: number;
  rng: Rng;
  maxDepth: number;
  feature: number[];
  value: number[];
  left: number[];
  featureOrder: Int32Array;
};

function newNode(g: Growth): number {
  g.feature.push(-1);
  g.value.push(0);
  g.left.push(-1);
  return g.feature.length - 1;
}

/** Grows the subtree for idx[start, end) into node `node`. */
function grow(g: Growth, idx: Int32Array, start: number, end: number, depth: number, node: number): void {
  const size = end - start;
  if (depth >= g.maxDepth || size <= 1) {
    g.value[node] = depth + averagePathLength(size);
    return;
  }
  const { x, cols, rng, featureOrder } = g;
  // Draw features without replacement until one is not constant in this node (as sklearn's
  // RandomSplitter does); a node where every feature is constant becomes a leaf.
  for (let k = 0; k < cols; k++) featureOrder[k] = k;
  let remaining = cols;
  while (remaining > 0) {
    const pick = randomInt(rng, remaining);
    const f = featureOrder[pick]!;
    featureOrder[pick] = featureOrder[remaining - 1]!;
    remaining--;
    let min = Infinity;
    let max = -Infinity;
    for (let i = start; i < end; i++) {
      const v = x[idx[i]! * cols + f]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (!(max > min)) continue;
    let split = min + rng() * (max - min);
    if (split >= max) split = min;
    // Partition in place: values <= split to the left.
    let i = start;
    let j = end - 1;
    while (i <= j) {
      if (x[idx[i]! * cols + f]! <= split) i++;
      else {
        const t = idx[i]!;
        idx[i] = idx[j]!;
        idx[j] = t;
        j--;
      }
    }
    g.feature[node] = f;
    g.value[node] = split;
    const l = newNode(g);
    const r = newNode(g);
    g.left[node] = l;
    if (r !== l + 1) throw new Error('internal: children must be adjacent');
    grow(g, idx, start, i, depth + 1, l);
    grow(g, idx, i, end, depth + 1, r);
    return;
  }
  g.value[node] = depth + averagePathLength(size);
}

export function fitIsolationForest(x: Matrix, p: IsolationForestParams = {}): IsolationForestModel {
  assertMatrix(x, 'isolation forest training data');
  if (x.rows < 1) throw new RangeError('isolation forest: training data must have at least one row');
  assertFinite(x.data, 'isolation forest training data');
  const nEstimators = p.nEstimators ?? IFOREST_DEFAULTS.nEstimators;
  const contamination = p.contamination ?? IFOREST_DEFAULTS.contamination;
  const seed = p.seed ?? IFOREST_DEFAULTS.seed;
  if (!Number.isInteger(nEstimators) || nEstimators < 1) throw new RangeError('nEstimators must be a positive integer');
  if (!(contamination > 0 && contamination <= 0.5)) throw new RangeError('contamination must be in (0, 0.5]');
  const requested = p.maxSamples ?? IFOREST_DEFAULTS.maxSamples;
  if (!Number.isInteger(requested) || requested < 1) throw new RangeError('maxSamples must be a positive integer');
  const maxSamples = Math.min(requested, x.rows);
  const maxDepth = Math.ceil(Math.log2(Math.max(maxSamples, 2)));

  const rng = mulberry32(seed);
  const g: Growth = {
    x: x.data,
    cols: x.cols,
    rng,
    maxDepth,
    feature: [],
    value: [],
    left: [],
    featureOrder: new Int32Array(x.cols),
  };
  // A persistent permutation: a partial Fisher–Yates shuffle of any permutation yields a uniform
  // subsample, so there is no O(n) reset per tree.
  const perm = new Int32Array(x.rows);
  for (let i = 0; i < x.rows; i++) perm[i] = i;
  const idx = new Int32Array(maxSamples);
  const roots: number[] = [];
  for (let t = 0; t < nEstimators; t++) {
    for (let i = 0; i < maxSamples; i++) {
      const j = i + randomInt(rng, x.rows - i);
      const v = perm[j]!;
      perm[j] = perm[i]!;
      perm[i] = v;
      idx[i] = v;
    }
    const root = newNode(g);
    roots.push(root);
    grow(g, idx, 0, maxSamples, 0, root);
  }
  const model: IsolationForestModel = {
    kind: 'isolation_forest',
    version: 1,
    nFeatures: x.cols,
    nEstimators,
    maxSamples,
    maxDepth,
    contamination,
    seed,
    threshold: 0,
    roots,
    feature: g.feature,
    value: g.value,
    left: g.left,
  };
  const scores = scoreIsolationForest(model, x);
  model.threshold = quantileSorted(sortedCopy(scores), 1 - contamination);
  return model;
}

/**
 * The forest rearranged for scoring. Every leaf becomes a self-loop (child = itself, feature 0,
 * threshold +Infinity, and x > +Infinity is false for the finite inputs we accept), so a row can
 * take exactly `treeDepth[t]` steps down tree t with no "is this a leaf?" test: the step count is
 * the same for every row, the loop branch is predictable and the step itself is branch-free.
 * Path lengths live in `leafLength`, read once per row and tree after the walk.
 */
type Compiled = {
  left: Int32Array;
  feature: Int32Array;
  threshold: Float64Array;
  leafLength: Float64Array;
  roots: Int32Array;
  treeDepth: Int32Array;
  /** The same trees in the implicit layout below, when every tree is shallow enough for it. */
  heap: HeapTrees | undefined;
};
const compiledCache = new WeakMap<IsolationForestModel, Compiled>();

function compile(model: IsolationForestModel): Compiled {
  const cached = compiledCache.get(model);
  if (cached) return cached;
  const n = model.feature.length;
  const left = new Int32Array(n);
  const feature = new Int32Array(n);
  const threshold = new Float64Array(n);
  const leafLength = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (model.feature[i]! >= 0) {
      left[i] = model.left[i]!;
      feature[i] = model.feature[i]!;
      threshold[i] = model.value[i]!;
    } else {
      left[i] = i;
      threshold[i] = Infinity;
      leafLength[i] = model.value[i]!;
    }
  }
  const roots = Int32Array.from(model.roots);
  // Deepest leaf of each tree: the number of steps that brings every row to its leaf.
  const treeDepth = new Int32Array(roots.length);
  const stack: number[] = [];
  for (let t = 0; t < roots.length; t++) {
    let deepest = 0;
    stack.push(roots[t]!, 0);
    while (stack.length > 0) {
      const d = stack.pop()!;
      const node = stack.pop()!;
      if (model.feature[node]! < 0) deepest = Math.max(deepest, d);
      else stack.push(model.left[node]!, d + 1, model.left[node]! + 1, d + 1);
    }
    treeDepth[t] = deepest;
  }
  const shallow = treeDepth.every((d) => d <= HEAP_MAX_DEPTH);
  const heap = shallow ? toHeap(model, roots, treeDepth) : undefined;
  const c: Compiled = { left, feature, threshold, leafLength, roots, treeDepth, heap };
  compiledCache.set(model, c);
  return c;
}

/**
 * Trees in implicit (heap) order: node p's children are 2p + 1 and 2p + 2, so a step needs no
 * child-index load, just feature[p] -> x -> compare. Each tree t is complete to its depth D:
 * a leaf above the bottom becomes a chain of +Infinity thresholds (always "left") down to the
 * bottom level, where `leaf` holds its path length at position p - (2^D - 1). That costs
 * 2^(D+1) slots per tree, hence only up to HEAP_MAX_DEPTH (maxSamples <= 4096; the default 256
 * gives depth 8, 511 nodes); deeper forests keep the linked layout.
 */
type HeapTrees = { feature: Int32Array[]; threshold: Float64Array[]; leaf: Float64Array[]; depth: Int32Array };
const HEAP_MAX_DEPTH = 12;

function toHeap(model: IsolationForestModel, roots: Int32Array, treeDepth: Int32Array): HeapTrees {
  const h: HeapTrees = { feature: [], threshold: [], leaf: [], depth: treeDepth };
  const stack: number[] = [];
  for (let t = 0; t < roots.length; t++) {
    const D = treeDepth[t]!;
    const inner = 2 ** D - 1;
    const feature = new Int32Array(Math.max(inner, 1));
    const threshold = new Float64Array(Math.max(inner, 1)).fill(Infinity);
    const leaf = new Float64Array(2 ** D);
    stack.push(roots[t]!, 0, 0);
    while (stack.length > 0) {
      const d = stack.pop()!;
      const pos = stack.pop()!;
      const node = stack.pop()!;
      const l = model.left[node]!;
      if (model.feature[node]! >= 0) {
        feature[pos] = model.feature[node]!;
        threshold[pos] = model.value[node]!;
        stack.push(l, 2 * pos + 1, d + 1, l + 1, 2 * pos + 2, d + 1);
      } else {
        let p = pos;
        for (let k = d; k < D; k++) p = 2 * p + 1;
        leaf[p - inner] = model.value[node]!;
      }
    }
    h.feature.push(feature);
    h.threshold.push(threshold);
    h.leaf.push(leaf);
  }
  return h;
}

/** Anomaly scores in (0, 1]; higher is more anomalous. */
export function scoreIsolationForest(model: IsolationForestModel, x: Matrix): Float64Array {
  assertMatrix(x, 'isolation forest input');
  if (model?.kind !== 'isolation_forest') throw new TypeError('not an isolation forest model');
  if (x.cols !== model.nFeatures) {
    throw new RangeError(`isolation forest: model has ${model.nFeatures} features, input has ${x.cols}`);
  }
  // Also what makes the +Infinity leaf thresholds sound: no input value can exceed them.
  assertFinite(x.data, 'isolation forest input');
  const c = compile(model);
  const depth = new Float64Array(x.rows);
  if (c.heap) walkHeap(c.heap, x, depth);
  else walkLinked(c, x, depth);
  const denominator = c.roots.length * averagePathLength(model.maxSamples);
  // A one-row subsample has c(1) = 0; scikit-learn then scores every row 0.5 ("no information").
  if (denominator === 0) return depth.fill(0.5);
  const norm = -1 / denominator;
  for (let r = 0; r < x.rows; r++) depth[r] = Math.pow(2, depth[r]! * norm);
  return depth;
}

/** Adds each row's path length in every tree to depth[row], trees in order (linked layout). */
function walkLinked(c: Compiled, x: Matrix, depth: Float64Array): void {
  const { left, feature, threshold, leafLength, roots, treeDepth } = c;
  const data = x.data;
  const cols = x.cols;
  const rows = x.rows;
  // Blocks of rows, each passed through every tree: the block's values stay in L1 and one tree's
  // nodes stay hot while the block goes through it, instead of streaming all rows once per tree.
  // Within a block eight rows descend a tree together, so the CPU overlaps their independent
  // load chains instead of waiting on one row's node after another. Per row the sum over trees
  // keeps the tree order, so scores are bit-for-bit those of a one-row-at-a-time walk.
  const BLOCK = 128;
  for (let r0 = 0; r0 < rows; r0 += BLOCK) {
    const r1 = Math.min(r0 + BLOCK, rows);
    for (let t = 0; t < roots.length; t++) {
      const root = roots[t]!;
      const steps = treeDepth[t]!;
      let r = r0;
      for (; r + 8 <= r1; r += 8) {
        const b0 = r * cols;
        const b1 = b0 + cols;
        const b2 = b1 + cols;
        const b3 = b2 + cols;
        const b4 = b3 + cols;
        const b5 = b4 + cols;
        const b6 = b5 + cols;
        const b7 = b6 + cols;
        let n0 = root;
        let n1 = root;
        let n2 = root;
        let n3 = root;
        let n4 = root;
        let n5 = root;
        let n6 = root;
        let n7 = root;
        // `+(a > b)` compiles to a flag-to-integer move, not a branch: the split directions are
        // data-dependent coin flips a branch predictor cannot learn.
        for (let s = 0; s < steps; s++) {
          n0 = left[n0]! + +(data[b0 + feature[n0]!]! > threshold[n0]!);
          n1 = left[n1]! + +(data[b1 + feature[n1]!]! > threshold[n1]!);
          n2 = left[n2]! + +(data[b2 + feature[n2]!]! > threshold[n2]!);
          n3 = left[n3]! + +(data[b3 + feature[n3]!]! > threshold[n3]!);
          n4 = left[n4]! + +(data[b4 + feature[n4]!]! > threshold[n4]!);
          n5 = left[n5]! + +(data[b5 + feature[n5]!]! > threshold[n5]!);
          n6 = left[n6]! + +(data[b6 + feature[n6]!]! > threshold[n6]!);
          n7 = left[n7]! + +(data[b7 + feature[n7]!]! > threshold[n7]!);
        }
        depth[r] = depth[r]! + leafLength[n0]!;
        depth[r + 1] = depth[r + 1]! + leafLength[n1]!;
        depth[r + 2] = depth[r + 2]! + leafLength[n2]!;
        depth[r + 3] = depth[r + 3]! + leafLength[n3]!;
        depth[r + 4] = depth[r + 4]! + leafLength[n4]!;
        depth[r + 5] = depth[r + 5]! + leafLength[n5]!;
        depth[r + 6] = depth[r + 6]! + leafLength[n6]!;
        depth[r + 7] = depth[r + 7]! + leafLength[n7]!;
      }
      for (; r < r1; r++) {
        const base = r * cols;
        let node = root;
        for (let s = 0; s < steps; s++) node = left[node]! + +(data[base + feature[node]!]! > threshold[node]!);
        depth[r] = depth[r]! + leafLength[node]!;
      }
    }
  }
}

/** walkLinked for the heap layout: the same blocking and eight-row interleave. */
function walkHeap(h: HeapTrees, x: Matrix, depth: Float64Array): void {
  const data = x.data;
  const cols = x.cols;
  const rows = x.rows;
  const BLOCK = 128;
  for (let r0 = 0; r0 < rows; r0 += BLOCK) {
    const r1 = Math.min(r0 + BLOCK, rows);
    for (let t = 0; t < h.depth.length; t++) {
      const feature = h.feature[t]!;
      const threshold = h.threshold[t]!;
      const leaf = h.leaf[t]!;
      const steps = h.depth[t]!;
      const inner = 2 ** steps - 1;
      let r = r0;
      for (; r + 8 <= r1; r += 8) {
        const b0 = r * cols;
        const b1 = b0 + cols;
        const b2 = b1 + cols;
        const b3 = b2 + cols;
        const b4 = b3 + cols;
        const b5 = b4 + cols;
        const b6 = b5 + cols;
        const b7 = b6 + cols;
        let n0 = 0;
        let n1 = 0;
        let n2 = 0;
        let n3 = 0;
        let n4 = 0;
        let n5 = 0;
        let n6 = 0;
        let n7 = 0;
        for (let s = 0; s < steps; s++) {
          n0 = 2 * n0 + 1 + +(data[b0 + feature[n0]!]! > threshold[n0]!);
          n1 = 2 * n1 + 1 + +(data[b1 + feature[n1]!]! > threshold[n1]!);
          n2 = 2 * n2 + 1 + +(data[b2 + feature[n2]!]! > threshold[n2]!);
          n3 = 2 * n3 + 1 + +(data[b3 + feature[n3]!]! > threshold[n3]!);
          n4 = 2 * n4 + 1 + +(data[b4 + feature[n4]!]! > threshold[n4]!);
          n5 = 2 * n5 + 1 + +(data[b5 + feature[n5]!]! > threshold[n5]!);
          n6 = 2 * n6 + 1 + +(data[b6 + feature[n6]!]! > threshold[n6]!);
          n7 = 2 * n7 + 1 + +(data[b7 + feature[n7]!]! > threshold[n7]!);
        }
        depth[r] = depth[r]! + leaf[n0 - inner]!;
        depth[r + 1] = depth[r + 1]! + leaf[n1 - inner]!;
        depth[r + 2] = depth[r + 2]! + leaf[n2 - inner]!;
        depth[r + 3] = depth[r + 3]! + leaf[n3 - inner]!;
        depth[r + 4] = depth[r + 4]! + leaf[n4 - inner]!;
        depth[r + 5] = depth[r + 5]! + leaf[n5 - inner]!;
        depth[r + 6] = depth[r + 6]! + leaf[n6 - inner]!;
        depth[r + 7] = depth[r + 7]! + leaf[n7 - inner]!;
      }
      for (; r < r1; r++) {
        const base = r * cols;
        let n = 0;
        for (let s = 0; s < steps; s++) n = 2 * n + 1 + +(data[base + feature[n]!]! > threshold[n]!);
        depth[r] = depth[r]! + leaf[n - inner]!;
      }
    }
  }
}
