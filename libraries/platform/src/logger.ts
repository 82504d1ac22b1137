import { Writable } from 'node:stream';
import winston from 'winston';
import { activeTraceIds } from './tracing';

// Each line carries the trace and span of the work that wrote it, so a log line leads to its trace.
// Ids given with the line (the gateway's access line, written when the answer has gone) win.
const traceIds = winston.format((info) => (info.trace_id ? info : Object.assign(info, activeTraceIds())));

/**
 * Standard output, written once per turn of the event loop with every line logged in that turn.
 * Written line by line, the gateway's access log cost one write(2) per request (stdout to a file
 * or a pipe is synchronous in node). Lines still pending when the process exits are written then.
 */
class TurnBufferedStdout extends Writable {
  private pending: string[] = [];
  private scheduled = false;

  constructor() {
    super({ decodeStrings: false });
    process.once('exit', () => this.flush());
  }

  override _write(line: string | Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.line(String(line));
    done();
  }

  /** A whole line, queued for this turn's write without the stream machinery. */
  line(text: string): void {
    this.pending.push(text);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const text = this.pending.join('');
    this.pending = [];
    process.stdout.write(text);
  }
}

let stdout: TurnBufferedStdout | undefined;

/** JSON logs, one object per line, always carrying the service name. */
export function createLogger(service: string, level = process.env.LOG_LEVEL ?? 'info'): winston.Logger {
  stdout ??= new TurnBufferedStdout();
  return winston.createLogger({
    level,
    defaultMeta: { service },
    format: winston.format.combine(traceIds(), winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Stream({ stream: stdout })],
  });
}

export type { Logger } from 'winston';

/** One answered request, as the access log records it. */
export interface AccessRecord {
  method: string;
  path: string;
  route: string;
  status: number;
  durationMs: number;
  requestId: string;
  servedBy?: string;
  trace_id?: string;
  span_id?: string;
}

/**
 * The access log, one line per answered request, in the logger's shape (the same sorted keys,
 * level, message, service and timestamp) and through the same turn-buffered stdout, but
 * serialized in one JSON.stringify: winston's pipeline for it (three formats, a stable stringify
 * that sorts keys, an object stream) was most of the access log's cost per request.
 */
export function createAccessLog(service: string): (record: AccessRecord) => void {
  stdout ??= new TurnBufferedStdout();
  const out = stdout;
  return (r) => {
    // Keys in sorted order, as winston's json format writes them; undefined ones are left out.
    const line = JSON.stringify({
      durationMs: r.durationMs,
      level: 'info',
      message: 'access',
      method: r.method,
      path: r.path,
      requestId: r.requestId,
      route: r.route,
      servedBy: r.servedBy,
      service,
      span_id: r.span_id,
      status: r.status,
      timestamp: new Date().toISOString(),
      trace_id: r.trace_id,
    });
    out.line(line + '\n');
  };
}
