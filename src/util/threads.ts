import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { CartlensError, ConfigError, DiskError, InputError, NoEventsError, PublishError, WarehouseMemoryError } from './errors.js';

/**
 * Starts a worker thread on the module `name` beside `callerUrl` (the caller's import.meta.url).
 * Built (dist/), the module is JavaScript and runs as it is. Run from src/ (the tests, tsx), it is
 * TypeScript: the worker first registers tsx's loader, as the process running src/ has one.
 */
export function startSiblingWorker(callerUrl: string, name: string): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, callerUrl));
  // Only import(): the code given as text runs as CommonJS or as a module, as the process's own was.
  const moduleUrl = new URL(`./${name}.ts`, callerUrl).href;
  return new Worker(`import(${JSON.stringify(tsxApiUrl(callerUrl))}).then(({ register }) => { register(); return import(${JSON.stringify(moduleUrl)}); });`, { eval: true });
}

/** tsx's `tsx/esm/api` as imported (its ESM file: require.resolve would give the CommonJS one). */
function tsxApiUrl(callerUrl: string): string {
  const manifest = createRequire(callerUrl).resolve('tsx/package.json');
  const { exports } = JSON.parse(readFileSync(manifest, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  return pathToFileURL(join(dirname(manifest), exports['./esm/api']!.import.default)).href;
}

/** An error as a message between threads: structured cloning keeps neither its class nor a hint. */
export interface ThreadError {
  name: string;
  message: string;
  stack?: string;
  hint?: string;
  transient?: boolean;
  /** The cause's words and the file-system fields that errors are classified by. */
  cause?: { message: string; code?: string; syscall?: string; path?: string };
}

/** The classes a ThreadError is rebuilt as: the errors cartlens raises on purpose whose constructor is (message, hint, transient, options). */
const REBUILT = { CartlensError, ConfigError, InputError, NoEventsError, PublishError, DiskError, WarehouseMemoryError } as const;

export function toThreadError(error: unknown): ThreadError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const cause = error.cause as { message?: unknown; code?: unknown; syscall?: unknown; path?: unknown } | undefined;
  return {
    name: error instanceof CartlensError ? error.name : 'Error',
    message: error.message,
    ...(error.stack !== undefined ? { stack: error.stack } : {}),
    ...(error instanceof CartlensError ? { hint: error.hint, transient: error.transient } : {}),
    ...(cause && typeof cause === 'object'
      ? {
          cause: {
            message: String(cause.message ?? cause),
            ...(typeof cause.code === 'string' ? { code: cause.code } : {}),
            ...(typeof cause.syscall === 'string' ? { syscall: cause.syscall } : {}),
            ...(typeof cause.path === 'string' ? { path: cause.path } : {}),
          },
        }
      : {}),
  };
}

/** The error a worker raised, as this thread's class (a CartlensError keeps its hint and whether it is transient). */
export function fromThreadError(sent: ThreadError): Error {
  const cause = sent.cause && Object.assign(new Error(sent.cause.message), sent.cause);
  const options = cause ? { cause } : undefined;
  const Rebuilt = sent.hint !== undefined ? REBUILT[sent.name as keyof typeof REBUILT] : undefined;
  const error = Rebuilt ? new Rebuilt(sent.message, sent.hint!, sent.transient ?? false, options) : new Error(sent.message, options);
  if (sent.stack !== undefined) error.stack = sent.stack;
  return error;
}
