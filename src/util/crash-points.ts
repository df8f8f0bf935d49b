/**
 * Named points where a test can have the process killed with SIGKILL (`CARTLENS_CRASH_AT=name`,
 * or `name:N` for its N-th passage in the process), to prove that dying there loses nothing.
 * `before-rename` is the moment a local export file is written and verified under its temporary
 * name, not yet renamed into place. Does nothing otherwise.
 */
export type CrashPoint = 'after-landing' | 'after-staging' | 'before-commit' | 'mid-export' | 'before-rename';

const passages = new Map<CrashPoint, number>();

export function crashPoint(name: CrashPoint): void {
  const wanted = process.env.CARTLENS_CRASH_AT;
  if (!wanted) return;
  const [point, nth = '1'] = wanted.split(':');
  if (point !== name) return;
  const passage = (passages.get(name) ?? 0) + 1;
  passages.set(name, passage);
  if (passage === Number(nth)) process.kill(process.pid, 'SIGKILL');
}
