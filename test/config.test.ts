import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { ConfigError } from '../src/config/../util/errors.js';

const parse = (text: string, env: Record<string, string> = {}) => parseConfig(text, 'cartlens.yaml', env);
const errorOf = (text: string, env: Record<string, string> = {}) => {
  try {
    parse(text, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
};

const MINIMAL = `
source:    { type: ga4-export-files, path: "data/events_*.json.gz" }
warehouse: { type: duckdb, path: ".cartlens/warehouse.duckdb" }
export:    { type: local, dir: ".cartlens/exports" }
privacy:   { user_key_secret: "\${CARTLENS_USER_KEY_SECRET}" }
`;

describe('config', () => {
  it('refuses a retention of staged events shorter than cart_recoveries reads, naming the key and the need', () => {
    const env = { CARTLENS_USER_KEY_SECRET: 'a-secret-of-enough-length' };
    expect(errorOf(`${MINIMAL}retention: { staged_days: 19 }\n`, env)).toMatch(/retention\.staged_days: is 19, and cart_recoveries needs at least 20: .*17 dates before it.*property\.lookback_days/);
    expect(errorOf(`${MINIMAL}retention: { staged_days: 21 }\nproperty: { lookback_days: 5 }\n`, env)).toMatch(/needs at least 22/);
    expect(parse(`${MINIMAL}retention: { staged_days: 20 }\n`, env).config.retention.staged_days).toBe(20);
  });

  it('reads labels in pt-BR for a BRL property unless locale says otherwise', () => {
    const localeOf = (yaml: string) => parseConfig(`source: { type: ga4-export-files, path: "x/*.json" }\n${yaml}`, '/tmp/cartlens.yaml').config.locale;
    expect(localeOf('')).toBe('pt-BR'); // BRL is the default currency
    expect(localeOf('property: { currency: BRL }')).toBe('pt-BR');
    expect(localeOf('property: { currency: USD }')).toBe('en');
    expect(localeOf('property: { currency: BRL }\nlocale: en')).toBe('en');
  });

  it('accepts the minimal shape as is, substituting ${ENV} after parsing', () => {
    const { config } = parse(MINIMAL, { CARTLENS_USER_KEY_SECRET: 'a secret with: yaml # chars' });
    expect(config.privacy.user_key_secret).toBe('a secret with: yaml # chars');
    expect(config.source).toEqual({ type: 'ga4-export-files', path: 'data/events_*.json.gz', intraday: false });
    expect(config.warehouse).toMatchObject({ type: 'duckdb', path: expect.stringMatching(/\/\.cartlens\/warehouse\.duckdb$/) });
  });

  it('needs nothing but source.path', () => {
    const { config } = parse('source: { type: ga4-export-files, path: "x/*.json" }');
    expect(config.warehouse.type).toBe('duckdb');
    expect(config.export.type).toBe('local');
    expect(config.privacy.user_key_secret).toBeUndefined();
  });

  it('names the file, line and key of an unknown key', () => {
    expect(errorOf('source: { type: ga4-export-files, path: "x" }\nexport:\n  type: local\n  folder: out\n')).toMatch(/^cartlens\.yaml:4: unknown key 'export\.folder'/);
  });

  it('names the key of a wrong type', () => {
    expect(errorOf('source: { type: ga4-export-files, path: 5 }')).toMatch(/cartlens\.yaml:1: source\.path: .*string/);
  });

  it('names an unknown source type', () => {
    expect(errorOf('source: { type: ftp, path: "x" }')).toMatch(/source\.type/);
  });

  it('fails on an unset variable, naming it and the key', () => {
    expect(errorOf(MINIMAL)).toMatch(/cartlens\.yaml:5: environment variable CARTLENS_USER_KEY_SECRET is not set/);
  });

  it('keeps $${ as a literal ${', () => {
    const { config } = parse('source: { type: ga4-export-files, path: "a/$${x}.json" }');
    expect(config.source).toMatchObject({ path: 'a/${x}.json' });
  });

  it('reports invalid YAML with its line', () => {
    expect(errorOf('source:\n  type: [unclosed\n')).toMatch(/^cartlens\.yaml(:\d+)?: invalid YAML/);
  });
});

describe('shipped configs', () => {
  it('the Google Cloud config and the demo config are valid', async () => {
    const { loadConfig } = await import('../src/config/load.js');
    const gcp = await loadConfig('deploy/cartlens.gcp.yaml', { CARTLENS_USER_KEY_SECRET: 'x'.repeat(32) });
    expect(gcp.config.export).toMatchObject({ type: 'gcs', prefix: 'exports/', location: 'southamerica-east1' });
    expect(gcp.config.warehouse).toMatchObject({ type: 'bigquery', location: 'southamerica-east1' });
    expect((await loadConfig('examples/demo.yaml')).config.source.type).toBe('demo');
  });
});

describe('Google Cloud locations', () => {
  it("refuses a bucket in another location than the BigQuery datasets", () => {
    const text = `source: { type: ga4-export-bigquery, project: my-project, dataset: analytics_1 }
warehouse: { type: bigquery, project: my-project, location: US }
export: { type: gcs, bucket: my-bucket, location: southamerica-east1 }`;
    expect(errorOf(text)).toMatch(/cartlens\.yaml:3: export\.location: the bucket's location \(southamerica-east1\) must equal the dataset's \(warehouse\.location: US\)/);
    expect(parse(text.replace('location: US', 'location: southamerica-east1')).config.warehouse.type).toBe('bigquery');
  });
});
