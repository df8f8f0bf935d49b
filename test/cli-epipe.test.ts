// The CLI's output read by a reader that stops early (`cartlens status | head -3`): the command
// ends quietly with its own exit code, for every command (src/cli/closed-pipes.ts, in main.ts).
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { planPolicy } from '../src/cloud/iam/plan.js';
import { loadPolicy } from '../src/cloud/iam/policy.js';
import { cli } from './support/cli.js';
import { ev, item, runOn, tempDir } from './support/pipeline.js';

const BIN = fileURLToPath(new URL('../bin/cartlens.js', import.meta.url));
/** Linux's default pipe capacity, and the most Node reads from a pipe at once. */
const PIPE_BYTES = 65_536;

interface Ended {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with stdout given as `stdout` (a file descriptor, or a pipe read by `onStdout`). */
function spawnCli(args: string[], stdout: number | 'pipe', onStdout?: (text: string, close: () => void) => void): Promise<Ended> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', stdout, 'pipe'] });
    let out = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      onStdout?.(out, () => child.stdout!.destroy());
    });
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: out, stderr }));
  });
}

/**
 * The write end of a pipe whose reader is already gone: every write to it fails with EPIPE, from
 * the first one on, however fast or slow the writer is.
 */
function pipeWithoutReader(dir: string): number {
  const fifo = join(dir, 'closed.fifo');
  execFileSync('mkfifo', [fifo]);
  // Opening for reading and writing never blocks on Linux, so the write end can open; then the
  // only reader goes.
  const reader = openSync(fifo, 'r+');
  const writer = openSync(fifo, 'w');
  closeSync(reader);
  return writer;
}

describe('a reader that closes the output early', () => {
  it('status ends with its own exit code and no stack trace when stdout has no reader', async () => {
    const run = await runOn({ 'day.json': [ev('add_to_cart', { items: [item('A')] }), ev('add_to_cart', { date: '20261102', items: [item('B')] })] });
    const args = ['status', '--config', join(run.dir, 'cartlens.yaml')];
    const read = await cli(args);
    expect(read.stdout.split('\n').length).toBeGreaterThan(3);

    const writer = pipeWithoutReader(run.dir);
    const cut = await spawnCli(args, writer).finally(() => closeSync(writer));
    expect([cut.code, cut.stderr]).toEqual([read.code, read.stderr]);
  });

  it('iam plan ends with 0 when the reader stops after the first line, with output far beyond what the pipe holds', async () => {
    const dir = await tempDir();
    const file = join(dir, 'many.yaml');
    const bindings = Array.from({ length: 5000 }, (_, i) => `  - { member: "group:readers-${i}@example.com", role: roles/storage.objectViewer, resource: { type: bucket, name: b1 } }`);
    await writeFile(file, `project: p1\nbindings:\n${bindings.join('\n')}\n`);
    // More than one read and a full pipe: the CLI is still writing when the reader goes.
    expect(planPolicy(await loadPolicy(file)).join('\n').length).toBeGreaterThan(4 * PIPE_BYTES);

    const cut = await spawnCli(['iam', 'plan', file], 'pipe', (text, close) => {
      if (text.includes('\n')) close();
    });
    expect(cut.stdout.split('\n')[0]).toBe('#!/usr/bin/env bash');
    expect([cut.code, cut.stderr]).toEqual([0, '']);
  });
});
