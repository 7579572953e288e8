/** The dataset column's storage format: row-major little-endian float64, the same on every host. */
import type { Matrix } from '@pynomaly/algorithms';

export function matrixToBytes(m: Matrix): Buffer {
  const buf = Buffer.alloc(m.data.length * 8);
  for (let i = 0; i < m.data.length; i++) buf.writeDoubleLE(m.data[i]!, i * 8);
  return buf;
}

export function bytesToMatrix(buf: Buffer, rows: number, cols: number): Matrix {
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = buf.readDoubleLE(i * 8);
  return { data, rows, cols };
}
