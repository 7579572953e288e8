/**
 * pino JSON logs to stdout and, when LOG_DIR is set, to LOG_DIR/<service>.log. Each line carries
 * the active span's trace_id/span_id (via the OTel context), so a log line leads to its trace.
 */
import { fstatSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { trace, isSpanContextValid } from '@opentelemetry/api';
import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  service: string;
  level?: string;
  dir?: string | undefined;
  version?: string;
  environment?: string;
}

export function traceMixin(): Record<string, string> {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const ctx = span.spanContext();
  if (!isSpanContextValid(ctx)) return {};
  return { trace_id: ctx.traceId, span_id: ctx.spanId, trace_flags: `0${ctx.traceFlags.toString(16)}` };
}

function sameFile(fd: number, path: string): boolean {
  try {
    const a = fstatSync(fd);
    const b = statSync(path);
    return a.dev === b.dev && a.ino === b.ino;
  } catch {
    return false;
  }
}

/**
 * Asynchronous writes with a bounded buffer: a line is queued and written when the descriptor is
 * ready (lines queued meanwhile go out in one write), and a reader that stops reading (a stuck
 * pipe, a full disk) costs at most this much memory: lines beyond it are dropped, not buffered.
 */
export const LOG_BUFFER_BYTES = 16 * 1024 * 1024;

function destination(target: { fd: number } | { dest: string; mkdir: true }) {
  return pino.destination({ ...target, sync: false, maxLength: LOG_BUFFER_BYTES });
}

export function createLogger(opts: LoggerOptions): Logger {
  const streams: pino.StreamEntry[] = [{ stream: destination({ fd: 1 }) }];
  if (opts.dir) {
    mkdirSync(opts.dir, { recursive: true });
    const file = join(opts.dir, `${opts.service}.log`);
    // A supervisor that already redirects stdout into this very file must not get every line twice.
    if (!sameFile(1, file)) streams.push({ stream: destination({ dest: file, mkdir: true }) });
  }
  const level = opts.level ?? 'info';
  return pino(
    {
      level,
      base: {
        service: opts.service,
        ...(opts.version ? { version: opts.version } : {}),
        ...(opts.environment ? { environment: opts.environment } : {}),
      },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin: traceMixin,
    },
    pino.multistream(
      streams.map((s) => ({ ...s, level: level as pino.Level })),
      { dedupe: false },
    ),
  );
}
