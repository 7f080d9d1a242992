/** A {@link Logger} that records every line (with its child bindings) for assertions. */
import type { LogFields, Logger } from '../../../../../shared/index.js';

export interface LogLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly msg: string;
  readonly fields: Record<string, unknown>;
}

export class RecordingLogger implements Logger {
  readonly lines: LogLine[];
  readonly #bindings: Record<string, unknown>;

  constructor(lines: LogLine[] = [], bindings: Record<string, unknown> = {}) {
    this.lines = lines;
    this.#bindings = bindings;
  }

  debug(fields: LogFields, msg = ''): void {
    this.#write('debug', fields, msg);
  }
  info(fields: LogFields, msg = ''): void {
    this.#write('info', fields, msg);
  }
  warn(fields: LogFields, msg = ''): void {
    this.#write('warn', fields, msg);
  }
  error(fields: LogFields, msg = ''): void {
    this.#write('error', fields, msg);
  }
  child(bindings: LogFields): Logger {
    return new RecordingLogger(this.lines, { ...this.#bindings, ...bindings });
  }

  /** Lines with exactly this message. */
  withMsg(msg: string): LogLine[] {
    return this.lines.filter((l) => l.msg === msg);
  }

  #write(level: LogLine['level'], fields: LogFields, msg: string): void {
    this.lines.push({ level, msg, fields: { ...this.#bindings, ...(fields as Record<string, unknown>) } });
  }
}
