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
  const nEstimators = p.nEstimators ?? 100;
  const contamination = p.contamination ?? 0.1;
  const seed = p.seed ?? 42;
  if (!Number.isInteger(nEstimators) || nEstimators < 1) throw new RangeError('nEstimators must be a positive integer');
  if (!(contamination > 0 && contamination <= 0.5)) throw new RangeError('contamination must be in (0, 0.5]');
  const requested = p.maxSamples ?? 256;
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

type Compiled = { feature: Int32Array; value: Float64Array; left: Int32Array; roots: Int32Array };
const compiledCache = new WeakMap<IsolationForestModel, Compiled>();

function compile(model: IsolationForestModel): Compiled {
  let c = compiledCache.get(model);
  if (!c) {
    c = {
      feature: Int32Array.from(model.feature),
      value: Float64Array.from(model.value),
      left: Int32Array.from(model.left),
      roots: Int32Array.from(model.roots),
    };
    compiledCache.set(model, c);
  }
  return c;
}

/** Anomaly scores in (0, 1]; higher is more anomalous. */
export function scoreIsolationForest(model: IsolationForestModel, x: Matrix): Float64Array {
  assertMatrix(x, 'isolation forest input');
  if (model?.kind !== 'isolation_forest') throw new TypeError('not an isolation forest model');
  if (x.cols !== model.nFeatures) {
    throw new RangeError(`isolation forest: model has ${model.nFeatures} features, input has ${x.cols}`);
  }
  assertFinite(x.data, 'isolation forest input');
  const { feature, value, left, roots } = compile(model);
  const data = x.data;
  const cols = x.cols;
  const rows = x.rows;
  const depth = new Float64Array(rows);
  // Blocks of rows, each passed through every tree: the block's values stay in L1 and the whole
  // forest's node tables in L2, instead of streaming all rows once per tree. Within a block four
  // rows descend a tree together, branch-free (child = left + (x > split)), so the CPU overlaps
  // their loads instead of stalling on one unpredictable comparison after another.
  const BLOCK = 128;
  for (let r0 = 0; r0 < rows; r0 += BLOCK) {
    const r1 = Math.min(r0 + BLOCK, rows);
    for (let t = 0; t < roots.length; t++) {
      const root = roots[t]!;
      const rootFeature = feature[root]!;
      let r = r0;
      for (; r + 4 <= r1; r += 4) {
        const b0 = r * cols;
        const b1 = b0 + cols;
        const b2 = b1 + cols;
        const b3 = b2 + cols;
        let n0 = root;
        let n1 = root;
        let n2 = root;
        let n3 = root;
        let f0 = rootFeature;
        let f1 = rootFeature;
        let f2 = rootFeature;
        let f3 = rootFeature;
        // Leaves have feature -1: the AND is negative only once all four rows sit on a leaf.
        while ((f0 & f1 & f2 & f3) >= 0) {
          if (f0 >= 0) {
            n0 = left[n0]! + +(data[b0 + f0]! > value[n0]!);
            f0 = feature[n0]!;
          }
          if (f1 >= 0) {
            n1 = left[n1]! + +(data[b1 + f1]! > value[n1]!);
            f1 = feature[n1]!;
          }
          if (f2 >= 0) {
            n2 = left[n2]! + +(data[b2 + f2]! > value[n2]!);
            f2 = feature[n2]!;
          }
          if (f3 >= 0) {
            n3 = left[n3]! + +(data[b3 + f3]! > value[n3]!);
            f3 = feature[n3]!;
          }
        }
        depth[r] = depth[r]! + value[n0]!;
        depth[r + 1] = depth[r + 1]! + value[n1]!;
        depth[r + 2] = depth[r + 2]! + value[n2]!;
        depth[r + 3] = depth[r + 3]! + value[n3]!;
      }
      for (let base = r * cols; r < r1; r++, base += cols) {
        let node = root;
        let f = rootFeature;
        while (f >= 0) {
          node = left[node]! + +(data[base + f]! > value[node]!);
          f = feature[node]!;
        }
        depth[r] = depth[r]! + value[node]!;
      }
    }
  }
  const denominator = roots.length * averagePathLength(model.maxSamples);
  // A one-row subsample has c(1) = 0; scikit-learn then scores every row 0.5 ("no information").
  if (denominator === 0) return depth.fill(0.5);
  const norm = -1 / denominator;
  for (let r = 0; r < rows; r++) depth[r] = Math.pow(2, depth[r]! * norm);
  return depth;
}
