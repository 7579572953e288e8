// Human progress on stderr: long steps say they are still alive, every step says how long it took.
const started = Date.now();

function stamp(): string {
  return `[${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s]`;
}

export function info(message: string): void {
  process.stderr.write(`${stamp()} ${message}\n`);
}

export async function step<T>(label: string, work: () => Promise<T>, heartbeatMs = 15_000): Promise<T> {
  const t0 = Date.now();
  info(`${label} …`);
  const timer = setInterval(
    () => info(`${label}: still working (${Math.round((Date.now() - t0) / 1000)}s)`),
    heartbeatMs,
  );
  try {
    const result = await work();
    info(`${label}: done in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    return result;
  } catch (err) {
    info(`${label}: FAILED after ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    throw err;
  } finally {
    clearInterval(timer);
  }
}

/** An error whose message tells the user what to do; the CLI prints it without a stack. */
export class UserFacingError extends Error {
  override name = 'UserFacingError';
}
