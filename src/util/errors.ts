/**
 * The few errors cartlens raises on purpose. Each says what is wrong and how to fix it, in one
 * line; `transient` tells a retrying caller whether trying again can help (dlt's split).
 */
export class CartlensError extends Error {
  constructor(
    message: string,
    readonly hint: string,
    readonly transient = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }

  /** The one line a user sees: the problem, then the fix. */
  get oneLine(): string {
    return this.hint ? `${this.message} — ${this.hint}` : this.message;
  }
}

/** The config file is missing, unreadable or invalid. */
export class ConfigError extends CartlensError {}

/** The input cannot be read (missing files, corrupt gzip, no events for a requested date). */
export class InputError extends CartlensError {}

/** None of the asked dates has events in the input (yet): for a scheduled run, their input is late. */
export class NoEventsError extends InputError {}

/** Another run holds the warehouse; trying again later can succeed. */
export class WarehouseBusyError extends CartlensError {
  constructor(message: string, hint: string, options?: { cause?: unknown }) {
    super(message, hint, true, options);
  }
}

/** The model graph is broken (missing reference, cycle); every problem is listed. */
export class ModelGraphError extends CartlensError {
  constructor(readonly problems: string[]) {
    super(`model graph is invalid: ${problems.join('; ')}`, 'fix the model files named above; nothing was run');
  }
}
