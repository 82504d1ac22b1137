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
    this.pending.push(String(line));
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    done();
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
