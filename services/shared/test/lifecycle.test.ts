import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { installGracefulShutdown, retryUntilDone } from '../src/lifecycle.js';

function recordingLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { logger, lines };
}

describe('installGracefulShutdown', () => {
  it('runs every step in order even when one fails, flushes telemetry last and exits non-zero', async () => {
    const { logger, lines } = recordingLogger();
    const order: string[] = [];
    const exit = vi.fn();
    const { shutdown, stopping } = installGracefulShutdown({
      logger,
      telemetry: { shutdown: async () => void order.push('telemetry') },
      steps: [
        { name: 'server', run: async () => void order.push('server') },
        {
          name: 'relay',
          run: async () => {
            order.push('relay');
            throw new Error('relay refused to stop');
          },
        },
        { name: 'pool', run: () => void order.push('pool') },
      ],
      exit,
      signals: [],
    });
    expect(stopping()).toBe(false);
    await shutdown('test');
    expect(stopping()).toBe(true);
    expect(order).toEqual(['server', 'relay', 'pool', 'telemetry']);
    expect(exit).toHaveBeenCalledWith(1);
    const failed = lines.find((l) => l.step === 'relay');
    expect(failed?.msg).toMatch(/failed; continuing/);
    expect(lines.find((l) => l.step === 'pool')?.msg).toBe('shutdown step done');
  });

  it('runs once however often it is asked, and exits 0 when every step succeeds', async () => {
    const { logger } = recordingLogger();
    const exit = vi.fn();
    const step = vi.fn();
    const { shutdown } = installGracefulShutdown({
      logger,
      telemetry: { shutdown: async () => {} },
      steps: [{ name: 'only', run: step }],
      exit,
      signals: [],
    });
    await Promise.all([shutdown('SIGTERM'), shutdown('SIGINT'), shutdown('SIGTERM')]);
    expect(step).toHaveBeenCalledTimes(1);
    expect(exit).toHaveBeenCalledTimes(1);
    expect(exit).toHaveBeenCalledWith(0);
  });

  it('exits 1 at the deadline when a step hangs', async () => {
    vi.useFakeTimers();
    try {
      const { logger } = recordingLogger();
      const exit = vi.fn();
      const { shutdown } = installGracefulShutdown({
        logger,
        telemetry: { shutdown: async () => {} },
        steps: [{ name: 'hangs', run: () => new Promise(() => {}) }],
        deadlineMs: 1000,
        exit,
        signals: [],
      });
      void shutdown('test');
      await vi.advanceTimersByTimeAsync(999);
      expect(exit).not.toHaveBeenCalled();
      await vi.advanceTimersByTimeAsync(1);
      expect(exit).toHaveBeenCalledWith(1);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('retryUntilDone', () => {
  it('retries a failing dependency until it answers', async () => {
    vi.useFakeTimers();
    try {
      const { logger, lines } = recordingLogger();
      let calls = 0;
      const done = retryUntilDone(logger, 'reach it', async () => {
        if (++calls < 3) throw new Error('not yet');
        return 'up';
      });
      await vi.advanceTimersByTimeAsync(1000 + 2000);
      await expect(done).resolves.toBe('up');
      expect(calls).toBe(3);
      expect(lines.filter((l) => l.msg === 'could not reach it yet; retrying')).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('gives up when cancelled, so a shutdown during start-up does not wait forever', async () => {
    const { logger } = recordingLogger();
    let cancelled = false;
    const attempt = vi.fn(async () => {
      cancelled = true;
      throw new Error('down');
    });
    await expect(
      retryUntilDone(logger, 'reach it', attempt, { cancelled: () => cancelled, maxDelayMs: 1 }),
    ).resolves.toBeUndefined();
    expect(attempt).toHaveBeenCalledTimes(1);
  });
});
