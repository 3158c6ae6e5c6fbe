// Tagged errors shared by every layer: each names the thing (file, field, tensor) and what is wrong with it,
// so the CLI can print one clear line and exit non-zero.
export class BieError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "BieError";
    this.code = code;
  }
}

/** A file that cannot be read as what it claims to be (corrupt, truncated, wrong format). */
export class BadInputError extends BieError {
  readonly file: string;
  constructor(file: string, reason: string, options?: { cause?: unknown }) {
    super("BAD_INPUT", `${file}: ${reason}`, options);
    this.name = "BadInputError";
    this.file = file;
  }
}

/** A configuration key or value that the schema rejects. */
export class ConfigError extends BieError {
  readonly field: string;
  constructor(field: string, reason: string) {
    super("BAD_CONFIG", `config field '${field}': ${reason}`);
    this.name = "ConfigError";
    this.field = field;
  }
}

/** Something the engine (libtorch binding) cannot do: missing library, bad shape, non-finite loss. */
export class EngineError extends BieError {
  constructor(reason: string, options?: { cause?: unknown }) {
    super("ENGINE", reason, options);
    this.name = "EngineError";
  }
}
