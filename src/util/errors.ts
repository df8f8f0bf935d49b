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

/**
 * Publishing the files failed (full disk, read-only or unwritable export folder, a short write).
 * The date's files stay as they were; when it happens after the warehouse commit, the run marks
 * its dates failed so that they are redone.
 */
export class PublishError extends CartlensError {}

/**
 * A folder cartlens keeps its working files in (landing.dir, landing.scratch_dir) cannot take a
 * write: a full disk, a quota, an I/O error, a read-only or unwritable folder. Terminal: trying
 * again cannot help until someone makes room, so a scheduler must not retry it.
 */
export class DiskError extends CartlensError {}

/**
 * DuckDB ran out of memory: names the step it was in and the settings that bound its memory. Not
 * transient: the same day needs the same memory until the config changes.
 */
export class WarehouseMemoryError extends CartlensError {}

/** DuckDB's error for a statement that needed more than warehouse.memory_limit. */
export function isOutOfMemory(error: unknown): boolean {
  return error instanceof Error && /Out of Memory Error/i.test(error.message);
}

/**
 * DuckDB's out-of-memory error as a WarehouseMemoryError naming `step` (what the run was doing,
 * as its log said) and the config keys to change; anything else is returned as it is.
 */
export function describeOutOfMemory(error: unknown, step: string, settings: { memoryLimit: string; threads?: number }): unknown {
  if (!isOutOfMemory(error) || error instanceof CartlensError) return error;
  const message = (error as Error).message;
  return new WarehouseMemoryError(
    `DuckDB ran out of memory while ${step} (warehouse.memory_limit: ${settings.memoryLimit}, warehouse.threads: ${settings.threads ?? 'every core'}): ${message.split('\n')[0]}`,
    'raise warehouse.memory_limit (DuckDB spills to disk beyond it, but some steps need it whole), or lower warehouse.threads (each thread holds its own buffers), then run again',
    false,
    { cause: error },
  );
}

/** What a write's file-system error code says about the disk, in words, and what makes room for it. */
const WRITE_FAILURES: Record<string, { reason: string; fix: string }> = {
  ENOSPC: { reason: 'no space left on device: the disk is full', fix: 'free space on that disk' },
  EDQUOT: { reason: 'disk quota exceeded', fix: 'raise the quota or free space' },
  EFBIG: { reason: 'file too large for the file system', fix: 'use a disk whose file system takes large files' },
  EIO: { reason: 'I/O error: the disk failed a write', fix: 'check the disk (dmesg, fsck)' },
  EROFS: { reason: 'read-only file system', fix: 'make it writable' },
  EACCES: { reason: 'permission denied', fix: 'give the user running cartlens write access to it' },
  EPERM: { reason: 'operation not permitted', fix: 'give the user running cartlens write access to it' },
};

/**
 * A failed write's error code in words (`no space left on device: the disk is full (ENOSPC)`)
 * and its fix, or undefined when the code says nothing about the disk or folder.
 */
export function writeFailure(error: unknown): { reason: string; fix: string } | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  const known = typeof code === 'string' ? WRITE_FAILURES[code] : undefined;
  return known && { reason: `${known.reason} (${String(code)})`, fix: known.fix };
}

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

/** A Google Cloud API could not be reached (offline, DNS, refused, reset): trying again can help. */
export class NetworkError extends CartlensError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'check the network (and any proxy or api_endpoint), then run again', true, options);
  }
}

/** No usable Google Cloud credentials: trying again cannot help until they are fixed. */
export class CredentialsError extends CartlensError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'run `gcloud auth application-default login` or set GOOGLE_APPLICATION_CREDENTIALS (on Google Cloud: the service account of the runtime)', false, options);
  }
}

/** Node's codes for a connection that could not be made or was lost (DNS, refused, reset, timeouts). */
const NETWORK_CODES = new Set([
  'ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH', 'ENETDOWN', 'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
]);

/** What google-auth-library says when it finds no credentials, cannot read them, or they were revoked. */
const CREDENTIALS_MESSAGES = /Could not load the default credentials|Unable to read the credential file|credential file specified by the GOOGLE_APPLICATION_CREDENTIALS|does not contain a client_email|does not contain a private_key|invalid_grant|invalid_rapt|Reauthentication is needed|unauthorized_client|Request had invalid authentication credentials|missing required authentication credential|Getting metadata from plugin failed/i;

/**
 * A Google client's failure that is about reaching Google Cloud or signing in, not about the
 * request itself: a NetworkError (transient) or a CredentialsError (terminal, with the fix), else
 * undefined. `what` names the operation ("dry run of …", "upload of …"). The client libraries wrap
 * the socket error, so the whole `cause` chain is looked at.
 */
export function accessError(what: string, error: unknown): NetworkError | CredentialsError | undefined {
  const chain: unknown[] = [];
  for (let e: unknown = error; e && typeof e === 'object' && chain.length < 5; e = (e as { cause?: unknown }).cause) chain.push(e);
  for (const e of chain) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    const text = String(message ?? '').split('\n')[0]!;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return new NetworkError(`${what} failed: cannot reach Google Cloud (${code}): ${text}`, { cause: error });
    // 401: the credentials were sent and refused (expired, revoked); 403 is a missing permission.
    if (code === 401 || CREDENTIALS_MESSAGES.test(text)) return new CredentialsError(`${what} failed: no usable Google Cloud credentials${code === 401 ? ' (401)' : ''}: ${text}`, { cause: error });
  }
  return undefined;
}
