// Hostile configs (issue 11): folders that overlap the input, the warehouse or the config, a
// scratch folder cartlens must not empty, misspelt keys, and a config path a shell would split.
import { mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { ConfigError } from '../src/util/errors.js';
import { runPipeline } from '../src/pipeline/run.js';
import { SCRATCH_FOLDER } from '../src/pipeline/run-scratch.js';
import { shellQuote } from '../src/cli/shell-quote.js';
import { Ga4ExportFilesSource } from '../src/sources/ga4-export-files/files-source.js';
import { cli } from './support/cli.js';
import { SECRET, ev, tempDir, writeConfig, writeInput } from './support/pipeline.js';

const BASE = `source: { type: ga4-export-files, path: "input/*.json*" }
warehouse: { type: duckdb, path: "state/warehouse.duckdb" }
privacy: { user_key_secret: "${SECRET}" }
`;

/** The message of the ConfigError that parsing `extra` after BASE raises in `dir`, or null when it parses. */
function problemOf(dir: string, extra: string, base = BASE): string | null {
  try {
    parseConfig(base + extra, join(dir, 'cartlens.yaml'));
    return null;
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
}

/** The test config (support/pipeline.ts) with another `landing:` line. */
async function writeConfigWithLanding(dir: string, landing: string): Promise<string> {
  const file = await writeConfig(dir);
  await writeFile(file, (await readFile(file, 'utf8')).replace(/^landing: .*$/m, `landing: ${landing}`));
  return file;
}

describe('folders that cartlens writes in', () => {
  it('refuses a scratch, landing or export folder that is or holds the input, the warehouse, the config or another of them, naming the key and line', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'input'));
    const cases: [string, RegExp][] = [
      ['landing: { scratch_dir: "input" }\n', /cartlens\.yaml:4: landing\.scratch_dir: .*\/input is the input folder \(source\.path\)/],
      ['landing: { scratch_dir: "." }\n', /landing\.scratch_dir: .* is the config's folder.*landing\.scratch_dir: .* contains the input folder.*contains the warehouse/],
      ['export: { type: local, dir: "input" }\n', /cartlens\.yaml:4: export\.dir: .*\/input is the input folder/],
      ['export: { type: local, dir: "/" }\n', /export\.dir: \/ contains the config's folder/],
      ['export: { type: local, dir: "state" }\n', /export\.dir: .*\/state contains the warehouse \(warehouse\.path\)/],
      ['landing: { dir: "out" }\nexport: { type: local, dir: "out" }\n', /export\.dir: .*\/out is also landing\.dir/],
      ['landing: { dir: "state/landing", scratch_dir: "state/landing" }\n', /landing\.scratch_dir: .* is also landing\.dir/],
      ['landing: { dir: "out/landing" }\nexport: { type: local, dir: "out" }\n', /export\.dir: .*\/out contains landing\.dir/],
    ];
    for (const [extra, expected] of cases) expect(problemOf(dir, extra), extra).toMatch(expected);
    // A symbolic link to the input is the input.
    await symlink(join(dir, 'input'), join(dir, 'linked'));
    expect(problemOf(dir, 'landing: { scratch_dir: "linked" }\n')).toMatch(/landing\.scratch_dir: .*\/input is the input folder/);
    // The demo regenerates its folder whole: it may not be the config's folder either.
    expect(problemOf(dir, '', 'source: { type: demo, dir: "." }\n')).toMatch(/source\.dir: .* is the config's folder/);
  });

  it('accepts the defaults, folders of their own, and the scratch folder inside the landing folder', async () => {
    const dir = await tempDir();
    expect(problemOf(dir, '')).toBeNull();
    expect(problemOf(dir, 'landing: { dir: "state/landing", scratch_dir: "state/landing/tmp" }\nexport: { type: local, dir: "exports" }\n')).toBeNull();
    expect(problemOf(dir, 'landing: { scratch_dir: "/var/tmp/cartlens" }\n')).toBeNull();
    expect(problemOf(dir, '', 'source: { type: demo }\n')).toBeNull();
  });

  it('refuses a folder cartlens writes in that lies inside the input folder where the glob reads (its own files would come back as input)', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'input'));
    const reading = BASE.replace('input/*.json*', 'input/**/*.json*');
    const cases: [string, RegExp][] = [
      ['landing: { dir: "input/landing" }\n', /cartlens\.yaml:4: landing\.dir: .*\/input\/landing is inside the input folder, where source\.path \(input\/\*\*\/\*\.json\*\) reads: the next run would read cartlens's own files as input/],
      ['landing: { scratch_dir: "input/tmp" }\n', /landing\.scratch_dir: .*\/input\/tmp is inside the input folder, where source\.path/],
      ['export: { type: local, dir: "input/exports" }\n', /export\.dir: .*\/input\/exports is inside the input folder, where source\.path/],
    ];
    for (const [extra, expected] of cases) expect(problemOf(dir, extra, reading), extra).toMatch(expected);
    // Through a link to the input folder, the same.
    await symlink(join(dir, 'input'), join(dir, 'linked'));
    expect(problemOf(dir, 'export: { type: local, dir: "linked/exports" }\n', reading)).toMatch(/export\.dir: .*\/input\/exports is inside the input folder/);
    // The glob decides: one that does not go down there, or a hidden folder it never enters, is fine.
    expect(problemOf(dir, 'landing: { dir: "input/landing" }\nexport: { type: local, dir: "input/exports" }\n')).toBeNull();
    expect(problemOf(dir, 'landing: { dir: "input/.cartlens/landing" }\n', reading)).toBeNull();
    const everything = BASE.replace('input/*.json*', '**/*.json*');
    expect(problemOf(dir, '', everything.replace(/^warehouse: .*$/m, ''))).toBeNull(); // the defaults are under .cartlens/
    expect(problemOf(dir, 'export: { type: local, dir: "exports" }\n', everything)).toMatch(/export\.dir: .*\/exports is inside the input folder, where source\.path \(\*\*\/\*\.json\*\) reads/);
  });

  it('`validate` reports an overlap with the key, and exits 1', async () => {
    const dir = await tempDir();
    const config = await writeConfigWithLanding(dir, '{ dir: "state/landing", scratch_dir: "input" }');
    const result = await cli(['validate', '--config', config]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: .*cartlens\.yaml:\d+: landing\.scratch_dir: .*\/input is the input folder \(source\.path\) — give cartlens folders of its own/);
    expect(result.stdout).not.toContain('ok');
  });

  it('`validate` and `run` refuse an export folder inside the input under `**`, naming the key; nothing is read', async () => {
    const dir = await tempDir();
    await writeInput(dir, { 'a.json': [ev('page_view')] });
    const config = await writeConfig(dir);
    await writeFile(config, (await readFile(config, 'utf8')).replace('input/*.json*', 'input/**/*.json*').replace('dir: "exports"', 'dir: "input/exports"'));
    for (const command of ['validate', 'run']) {
      const result = await cli([command, '--config', config]);
      expect(result.code, command).toBe(1);
      expect(result.stderr, command).toMatch(/^error: .*cartlens\.yaml:3: export\.dir: .*\/input\/exports is inside the input folder, where source\.path \(input\/\*\*\/\*\.json\*\) reads/m);
    }
    expect(await readdir(dir)).not.toContain('state');
  });
});

describe('the scratch folder', () => {
  it("deletes only its own run folders: the user's files in scratch_dir, and anything not named like a run, stay", async () => {
    const dir = await tempDir();
    await writeInput(dir, { 'a.json': [ev('page_view')] });
    const scratch = join(dir, 'shared-tmp');
    await mkdir(join(scratch, 'someone-else'), { recursive: true });
    await writeFile(join(scratch, 'keep.txt'), 'not cartlens');
    await writeFile(join(scratch, 'someone-else', 'keep.bin'), 'not cartlens');
    // What a killed run left: a run folder inside cartlens's marked folder.
    await mkdir(join(scratch, SCRATCH_FOLDER, '20261101T090000Z-abcdef'), { recursive: true });
    await writeFile(join(scratch, SCRATCH_FOLDER, '.cartlens-scratch'), '');
    await writeFile(join(scratch, SCRATCH_FOLDER, '20261101T090000Z-abcdef', '00000.ndjson'), '{}\n');
    const config = await writeConfigWithLanding(dir, '{ dir: "state/landing", scratch_dir: "shared-tmp" }');
    const loaded = parseConfig(await readFile(config, 'utf8'), config);
    const report = await runPipeline({ loaded });
    expect(report.dates.map((d) => d.status)).toEqual(['published']);
    expect(await readFile(join(scratch, 'keep.txt'), 'utf8')).toBe('not cartlens');
    expect(await readFile(join(scratch, 'someone-else', 'keep.bin'), 'utf8')).toBe('not cartlens');
    // The leftover and this run's own folder are gone; the marker stays.
    expect(await readdir(join(scratch, SCRATCH_FOLDER))).toEqual(['.cartlens-scratch']);
  });
});

describe('misspelt keys', () => {
  it('suggests the nearest known key of the same section', () => {
    const dir = '/nonexistent-config-folder';
    expect(problemOf(dir, '', 'source: { type: ga4-export-files, path: "x/*.json" }\nwarehouse: { type: duckdb, threds: 2 }\n')).toMatch(
      /cartlens\.yaml:2: unknown key 'warehouse\.threds' \(did you mean 'warehouse\.threads'\?\)/,
    );
    expect(problemOf(dir, '', 'source: { type: ga4-export-files, path: "x/*.json" }\nexprot: { type: local }\n')).toMatch(/unknown key 'exprot' \(did you mean 'export'\?\)/);
    expect(problemOf(dir, '', 'source: { type: ga4-export-files, path: "x/*.json" }\nretention: { quarantine_day: 5 }\n')).toMatch(/did you mean 'retention\.quarantine_days'/);
    // Nothing near: no guess.
    expect(problemOf(dir, '', 'source: { type: ga4-export-files, path: "x/*.json" }\nwarehouse: { type: duckdb, colour: blue }\n')).not.toMatch(/did you mean/);
  });
});

describe('hints a user can follow', () => {
  it('the printed serve command survives the shell: a config path with spaces and quotes', async () => {
    expect(shellQuote('cartlens.yaml')).toBe('cartlens.yaml');
    expect(shellQuote("my dir/it's $HOME.yaml")).toBe(`'my dir/it'\\''s $HOME.yaml'`);
    const dir = join(await tempDir(), "a b's");
    await mkdir(dir);
    await writeInput(dir, { 'a.json': [ev('page_view')] });
    const config = await writeConfig(dir);
    const result = await cli(['run', '--config', config]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Dashboard: npx cartlens serve --config ${shellQuote(config)}\n`);
    // What the shell makes of it is the path again.
    const echoed = await new Promise<string>((resolve, reject) => {
      import('node:child_process').then(({ execFile }) => execFile('sh', ['-c', `printf %s ${shellQuote(config)}`], (error, stdout) => (error ? reject(error) : resolve(stdout))), reject);
    });
    expect(echoed).toBe(config);
  });

  it('a glob with ( or [ in a folder name that matches nothing says how to escape it', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'data (2026)'));
    await writeFile(join(dir, 'data (2026)', 'events_20261101.json'), '{}\n');
    await expect(new Ga4ExportFilesSource('data (2026)/*.json', dir).listFiles()).rejects.toMatchObject({ hint: expect.stringMatching(/`\[ \] \( \)` in source\.path are glob syntax: escape each with a backslash/) });
    // The escaped form the hint shows does match.
    expect((await new Ga4ExportFilesSource('data \\(2026\\)/*.json', dir).listFiles()).map((f) => f.path)).toEqual([join(dir, 'data (2026)', 'events_20261101.json')]);
    // A plain glob that matches nothing gets no such hint.
    await expect(new Ga4ExportFilesSource('nothing/*.json', dir).listFiles()).rejects.toMatchObject({ hint: expect.not.stringMatching(/glob syntax/) });
  });
});
