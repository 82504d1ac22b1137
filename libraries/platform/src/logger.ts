import winston from 'winston';

/** JSON logs, one object per line, always carrying the service name. */
export function createLogger(service: string, level = process.env.LOG_LEVEL ?? 'info'): winston.Logger {
  return winston.createLogger({
    level,
    defaultMeta: { service },
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Console()],
  });
}

export type { Logger } from 'winston';
