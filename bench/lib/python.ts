// The Python baseline: a cached virtualenv with pinned numpy/scipy/scikit-learn, and the
// reference script run as a subprocess with JSON in and out, single threaded.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const PINS = ['numpy==2.1.3', 'scipy==1.14.1', 'scikit-learn==1.5.2'];
const here = dirname(fileURLToPath(import.meta.url));

export function venvDir(): string {
  const cache = resolve(process.env.PYNOMALY_CACHE_DIR ?? join(homedir(), '.cache', 'pynomaly'));
  return join(cache, 'bench-venv');
}

/** Creates (once) the virtualenv and installs the pinned packages with pip. */
export function ensureVenv(log: (s: string) => void): string {
  const dir = venvDir();
  const py = join(dir, 'bin', 'python');
  const marker = join(dir, '.pins');
  if (existsSync(py) && existsSync(marker) && readFileSync(marker, 'utf8') === PINS.join('\n')) return py;
  log(`creating the baseline virtualenv in ${dir} (${PINS.join(', ')})`);
  if (!existsSync(py)) execFileSync('python3', ['-m', 'venv', dir], { stdio: 'inherit' });
  execFileSync(py, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...PINS], {
    stdio: 'inherit',
  });
  writeFileSync(marker, PINS.join('\n'));
  return py;
}

export const singleThreadEnv = {
  OMP_NUM_THREADS: '1',
  OPENBLAS_NUM_THREADS: '1',
  MKL_NUM_THREADS: '1',
  NUMEXPR_NUM_THREADS: '1',
  VECLIB_MAXIMUM_THREADS: '1',
};

export interface PyResponse<R> {
  results: R[];
  versions: Record<string, string>;
}

export function runReference<R>(py: string, tasks: object[]): PyResponse<R> {
  const res = spawnSync(py, [join(here, '..', 'python', 'reference.py')], {
    input: JSON.stringify({ tasks }),
    env: { ...process.env, ...singleThreadEnv },
    maxBuffer: 64 * 1024 * 1024,
    encoding: 'utf8',
  });
  if (res.status !== 0) throw new Error(`bench/python/reference.py failed (${res.status}): ${res.stderr}`);
  return JSON.parse(res.stdout) as PyResponse<R>;
}

/** runReference without blocking the event loop (the bench's worker threads keep running). */
export function runReferenceAsync<R>(py: string, tasks: object[]): Promise<PyResponse<R>> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(py, [join(here, '..', 'python', 'reference.py')], {
      env: { ...process.env, ...singleThreadEnv },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0)
        reject(new Error(`bench/python/reference.py failed (${code}): ${Buffer.concat(err).toString('utf8')}`));
      else resolvePromise(JSON.parse(Buffer.concat(out).toString('utf8')) as PyResponse<R>);
    });
    child.stdin.end(JSON.stringify({ tasks }));
  });
}
