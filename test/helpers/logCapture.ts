// A logger (src/http/logging.ts, the redaction included) writing into memory: its JSON lines parsed, and the raw text.
import { createLogger, type LogLevel, type Logger } from '../../src/http/logging.js';

export interface LogCapture {
  readonly logger: Logger;
  lines(): Record<string, unknown>[];
  text(): string;
}

export function captureLogger(level: LogLevel = 'info'): LogCapture {
  const raw: string[] = [];
  const logger = createLogger({ level, destination: { write: (s: string) => void raw.push(s) } });
  return {
    logger,
    lines() {
      return raw.flatMap((s) => s.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>));
    },
    text: () => raw.join(''),
  };
}
