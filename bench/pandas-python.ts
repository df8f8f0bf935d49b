import { spawnSync } from 'node:child_process';

/**
 * The first python3 that imports pandas, or undefined: `CARTLENS_BENCH_PYTHON` when set, else
 * `python3`, then the system's (a pyenv shim can hide it). The benchmark and its test find it alike.
 */
export function pandasPython(): string | undefined {
  const candidates = process.env.CARTLENS_BENCH_PYTHON ? [process.env.CARTLENS_BENCH_PYTHON] : ['python3', '/usr/bin/python3'];
  return candidates.find((candidate) => spawnSync(candidate, ['-c', 'import pandas'], { stdio: 'ignore' }).status === 0);
}
