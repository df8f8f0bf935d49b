import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

// The Google client libraries look for the GCE metadata server (169.254.169.254) when they
// resolve credentials or the project. Tests only ever talk to local fakes on 127.0.0.1.
process.env.METADATA_SERVER_DETECTION = 'none';

// Each test file's temporary folders (tempDir()) live under one folder of its own, deleted when
// the file is done. Not TMPDIR: the CLI's children would lose tsx's compile cache with it.
const root = mkdtempSync(join(tmpdir(), 'cartlens-tests-'));
process.env.CARTLENS_TEST_TMP = root;
afterAll(() => rmSync(root, { recursive: true, force: true, maxRetries: 3 }));
