import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { CartlensError, ConfigError, DiskError, InputError, NoEventsError, PublishError, WarehouseMemoryError } from './errors.js';

/**
 * Starts a worker thread on the module `name` beside `callerUrl` (the caller's import.meta.url).
 * Built (dist/), the module is JavaScript and runs as it is. Run from src/ (the tests, tsx), it is
 * TypeScript, which a worker cannot load: it is bundled with esbuild (a development dependency, as
 * src/ is) once per process, into a file named by its content, shared by processes (no leftovers).
 */
export function startSiblingWorker(callerUrl: string, name: string): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, callerUrl));
  const source = fileURLToPath(new URL(`./${name}.ts`, callerUrl));
  let bundle = bundles.get(source);
  if (!bundle) {
    const esbuild = createRequire(callerUrl)('esbuild') as typeof import('esbuild');
    const [output] = esbuild.buildSync({ entryPoints: [source], bundle: true, write: false, platform: 'node', format: 'esm', target: 'node20', logLevel: 'error' }).outputFiles;
    const code = output!.contents;
    bundle = join(tmpdir(), 'cartlens-workers', `${name}-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`);
    if (!existsSync(bundle)) {
      mkdirSync(dirname(bundle), { recursive: true });
      // Through a file of this process's own and a rename: another process may be writing the same bundle.
      writeFileSync(`${bundle}.${process.pid}`, code);
      renameSync(`${bundle}.${process.pid}`, bundle);
    }
    bundles.set(source, bundle);
  }
  return new Worker(bundle);
}

/** The bundle made of each worker module run from src/, by its path. */
const bundles = new Map<string, string>();

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
  const Rebuilt = sent.hint !== undefined && Object.hasOwn(REBUILT, sent.name) ? REBUILT[sent.name as keyof typeof REBUILT] : undefined;
  const error = Rebuilt ? new Rebuilt(sent.message, sent.hint!, sent.transient ?? false, options) : new Error(sent.message, options);
  if (sent.stack !== undefined) error.stack = sent.stack;
  return error;
}
