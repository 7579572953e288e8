/** Row-major dense matrix of float64 values. */
export type Matrix = { data: Float64Array; rows: number; cols: number };

export function assertMatrix(x: Matrix, what = 'matrix'): void {
  if (!x || !(x.data instanceof Float64Array)) throw new TypeError(`${what}: data must be a Float64Array`);
  if (!Number.isInteger(x.rows) || !Number.isInteger(x.cols) || x.rows < 0 || x.cols < 1) {
    throw new RangeError(`${what}: rows must be a non-negative integer and cols a positive integer`);
  }
  if (x.data.length !== x.rows * x.cols) {
    throw new RangeError(`${what}: data length ${x.data.length} does not equal rows*cols (${x.rows}*${x.cols})`);
  }
}

export function assertFinite(values: Float64Array, what: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) throw new RangeError(`${what}: value at index ${i} is not finite`);
  }
}

export function matrixFromRows(rows: readonly (readonly number[])[]): Matrix {
  const r = rows.length;
  const c = r === 0 ? 0 : rows[0]!.length;
  const data = new Float64Array(r * c);
  for (let i = 0; i < r; i++) {
    const row = rows[i]!;
    if (row.length !== c) throw new RangeError(`row ${i} has ${row.length} values, expected ${c}`);
    data.set(row, i * c);
  }
  return { data, rows: r, cols: c };
}

/** Copy of one column as a contiguous array (the drift statistics work per feature). */
export function column(x: Matrix, j: number): Float64Array {
  const out = new Float64Array(x.rows);
  for (let i = 0, k = j; i < x.rows; i++, k += x.cols) out[i] = x.data[k]!;
  return out;
}
