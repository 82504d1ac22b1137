import winston from 'winston';
import { activeTraceIds } from './tracing';

// Each line carries the trace and span of the work that wrote it, so a log line leads to its trace.
const traceIds = winston.format((info) => Object.assign(info, activeTraceIds()));

/** JSON logs, one object per line, always carrying the service name. */
export function createLogger(service: string, level = process.env.LOG_LEVEL ?? 'info'): winston.Logger {
  return winston.createLogger({
    level,
    defaultMeta: { service },
    format: winston.format.combine(traceIds(), winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Console()],
  });
}

export type { Logger } from 'winston';
