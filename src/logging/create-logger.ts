import winston from 'winston';

export interface LogSettings {
  level: string;
  format: string;
}

/** The process's logger; subsystems get it (or a child) passed in. Logs go to stderr. */
export function createLogger(settings: LogSettings): winston.Logger {
  const text = winston.format.printf(({ level, message, timestamp, ...meta }) => {
    const rest = Object.keys(meta).length > 0 ? ` ${JSON.stringify(meta)}` : '';
    return `${timestamp as string} ${level} ${message as string}${rest}`;
  });
  return winston.createLogger({
    level: settings.level,
    format: winston.format.combine(
      winston.format.timestamp(),
      settings.format === 'json' ? winston.format.json() : text,
    ),
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] })],
  });
}
