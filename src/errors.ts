// Base class of every typed error mcim throws: a stable machine-readable code and a clear message.
export class McimError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}
