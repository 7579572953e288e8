/**
 * A CSV dataset read as a stream: records are parsed as the upload arrives and every limit (rows,
 * columns, characters per cell, bytes of the file) is checked per record, so a file that breaks
 * one is refused when it breaks it, never after the whole file was buffered and parsed. Values go
 * straight into one growing Float64Array (8 bytes a cell), not arrays of strings.
 */
import type { Readable } from 'node:stream';
import type { Matrix } from '@pynomaly/algorithms';
import { parse, type CsvError } from 'csv-parse';
import { ApiError } from './errors.js';
import { featureNamesSchema } from './schemas.js';

export interface CsvLimits {
  maxRows: number;
  maxFeatures: number;
  maxCells: number;
  maxCellChars: number;
}

/** The file stream @fastify/multipart hands out: `truncated` once it passed the byte limit. */
export type UploadStream = Readable & { truncated?: boolean };

const limitExceeded = (message: string) => new ApiError(422, 'limit_exceeded', `file: ${message}`);

class Float64Builder {
  private data = new Float64Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = v;
  }
  /** Exactly `length` values (a copy, so the spare capacity is released). */
  finish(): Float64Array {
    return this.data.slice(0, this.length);
  }
}

export async function readCsvDataset(
  source: UploadStream,
  limits: CsvLimits,
  tooLarge: () => Error,
): Promise<{ featureNames: string[]; matrix: Matrix }> {
  const parser = parse({
    skip_empty_lines: true,
    trim: true,
    bom: true,
    // One line of the widest allowed row: a longer line is refused before it is kept whole.
    max_record_size: limits.maxFeatures * (limits.maxCellChars + 1),
  });
  source.pipe(parser);
  let header: string[] | undefined;
  let rows = 0;
  const values = new Float64Builder();
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      if (!header) {
        if (record.length > limits.maxFeatures)
          throw limitExceeded(`has ${record.length} columns, the limit is ${limits.maxFeatures} (API_MAX_FEATURES)`);
        checkCells(record, 0, limits.maxCellChars);
        const names = featureNamesSchema(limits.maxFeatures).safeParse(record);
        if (!names.success) {
          const reasons = names.error.issues.slice(0, 5).map((i) => i.message);
          throw new ApiError(422, 'unprocessable', `file: header row: ${reasons.join('; ')}`);
        }
        header = names.data;
        continue;
      }
      rows++;
      if (rows > limits.maxRows)
        throw limitExceeded(`has more than ${limits.maxRows} data rows (API_DATASET_MAX_ROWS)`);
      checkCells(record, rows, limits.maxCellChars);
      if (values.length + record.length > limits.maxCells)
        throw limitExceeded(`has more than ${limits.maxCells} values (API_MAX_CELLS)`);
      for (let j = 0; j < record.length; j++) {
        const cell = record[j]!;
        const v = cell === '' ? Number.NaN : Number(cell);
        if (!Number.isFinite(v)) {
          throw new ApiError(
            422,
            'unprocessable',
            `file: row ${rows}, column ${header[j]}: ${JSON.stringify(cell)} is not a finite number`,
          );
        }
        values.push(v);
      }
    }
  } catch (err) {
    parser.destroy();
    source.unpipe(parser);
    source.destroy();
    if (source.truncated) throw tooLarge();
    if (err instanceof ApiError) throw err;
    const code = (err as CsvError).code;
    if (code === 'CSV_MAX_RECORD_SIZE')
      throw limitExceeded(
        `a line is longer than ${limits.maxFeatures} cells of ${limits.maxCellChars} characters (API_MAX_FEATURES × API_CSV_MAX_CELL_CHARS)`,
      );
    throw new ApiError(422, 'unprocessable', `file: not valid CSV (${(err as Error).message})`);
  }
  // A file cut at the byte limit may still end in a complete record: it is refused all the same.
  if (source.truncated) throw tooLarge();
  if (!header || rows === 0)
    throw new ApiError(422, 'unprocessable', 'file: needs a header row and at least one data row');
  return { featureNames: header, matrix: { data: values.finish(), rows, cols: header.length } };
}

function checkCells(record: readonly string[], row: number, maxChars: number): void {
  const long = record.findIndex((cell) => cell.length > maxChars);
  if (long >= 0) {
    const where = row === 0 ? 'header row' : `row ${row}`;
    throw limitExceeded(
      `${where}, column ${long + 1}: a cell has ${record[long]!.length} characters, the limit is ${maxChars} (API_CSV_MAX_CELL_CHARS)`,
    );
  }
}
