/**
 * Named points where a test can have the process killed with SIGKILL (`CARTLENS_CRASH_AT=name`),
 * to prove that a run dying there loses nothing. Does nothing otherwise.
 */
export type CrashPoint = 'after-landing' | 'after-staging' | 'before-commit' | 'mid-export';

export function crashPoint(name: CrashPoint): void {
  if (process.env.CARTLENS_CRASH_AT === name) process.kill(process.pid, 'SIGKILL');
}
