import { z } from 'zod';
import { RECOVERY_EVENT_DATES } from '../contract/tables.js';

/** The demo source's defaults (`cartlens demo` and `source: { type: demo }`). */
export const DEMO_DEFAULTS = {
  days: 7,
  sessionsPerDay: 3000,
  startDate: '2026-11-01',
  seed: 20261101,
  dirtyRate: 0.004,
  utcOffsetHours: -3,
  catalogSize: 400,
};

const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM, 24-hour');

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD');

const ga4ExportFilesSource = z
  .object({
    type: z.literal('ga4-export-files'),
    /** A glob of GA4 BigQuery-export files: .json or .ndjson, optionally .gz. */
    path: z.string().min(1),
    /**
     * Read GA4's intraday files (`events_intraday_YYYYMMDD…`): a date without daily files is
     * published from them as provisional, and recomputed from the daily files alone once they
     * come (docs/operations.md). Off: intraday files are left out, and counted.
     */
    intraday: z.boolean().default(false),
  })
  .strict();

const projectId = z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'a Google Cloud project id');
const datasetId = z.string().regex(/^[A-Za-z0-9_]{1,1024}$/, 'a BigQuery dataset id');

const ga4ExportBigQuerySource = z
  .object({
    type: z.literal('ga4-export-bigquery'),
    /** The project and dataset of GA4's BigQuery export: `PROJECT.analytics_PROPERTY.events_YYYYMMDD`. */
    project: projectId,
    dataset: datasetId,
    /** Read `events_intraday_YYYYMMDD` for a date without its daily table, as provisional (docs/operations.md). */
    intraday: z.boolean().default(false),
  })
  .strict();

const ga4DataApiSource = z
  .object({
    type: z.literal('ga4-data-api'),
    property: z.string().regex(/^properties\/\d+$/, 'properties/<number>'),
    /** The emulator's endpoint (`cartlens dev ga4-api`); unset in production (ADC). */
    api_endpoint: z.string().url().optional(),
    /** Recent days are fetched again on every run: GA4 revises them. Older than 72 h, final. */
    lookback_days: z.number().int().min(0).max(30).default(3),
    /** Tokens a run may spend before it stops and leaves the rest for the next run. */
    token_budget: z.number().int().positive().default(150_000),
    page_size: z.number().int().min(1).max(250_000).default(10_000),
    time_zone: z.string().default('America/Sao_Paulo'),
    /** When the warehouse also holds the export's tables, drift beyond this share is a warning. */
    reconcile_tolerance: z.number().min(0).default(0.02),
    reports: z
      .array(z.object({ name: z.string().regex(/^[a-z][a-z0-9_]*$/), dimensions: z.array(z.string()).min(1), metrics: z.array(z.string()).min(1) }).strict())
      .optional(),
  })
  .strict();

const demoSource = z
  .object({
    type: z.literal('demo'),
    /** Where the generated export is written; it is then read like `ga4-export-files`. */
    dir: z.string().default('.cartlens/demo-input'),
    days: z.number().int().min(1).max(366).default(DEMO_DEFAULTS.days),
    sessions_per_day: z.number().int().min(1).default(DEMO_DEFAULTS.sessionsPerDay),
    start_date: isoDate.default(DEMO_DEFAULTS.startDate),
    seed: z.number().int().default(DEMO_DEFAULTS.seed),
    dirty_rate: z.number().min(0).max(1).default(DEMO_DEFAULTS.dirtyRate),
  })
  .strict();

const duckdbWarehouse = z
  .object({
    type: z.literal('duckdb'),
    path: z.string().default('.cartlens/warehouse.duckdb'),
    /** DuckDB spills to disk past this, which keeps a large day within a fixed memory budget. */
    memory_limit: z.string().default('384MB'),
    threads: z.number().int().min(1).optional(),
    /** How long a run waits for another process's lock before failing (the dashboard's copies take well under 1 s). */
    lock_wait_seconds: z.number().min(0).max(600).default(5),
  })
  .strict();

const bigqueryWarehouse = z
  .object({
    type: z.literal('bigquery'),
    project: projectId,
    /** Where the datasets are and the jobs run; must be the export bucket's location. */
    location: z.string().default('southamerica-east1'),
    staging_dataset: datasetId.default('cartlens_staging'),
    marts_dataset: datasetId.default('cartlens_marts'),
    /** The cost guard of every query (docs/google-cloud.md). */
    maximum_bytes_billed: z.number().int().positive().default(10 * 2 ** 30),
    /** An emulator's endpoint (tests); unset in production. */
    api_endpoint: z.string().url().optional(),
  })
  .strict();

const localExport = z
  .object({
    type: z.literal('local'),
    dir: z.string().default('.cartlens/exports'),
    /** Also publish remarketing_audience (remarketable carts only): off unless asked for. */
    remarketing_audience: z.boolean().default(false),
  })
  .strict();

const gcsExport = z
  .object({
    type: z.literal('gcs'),
    bucket: z.string().regex(/^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/, 'a Cloud Storage bucket name'),
    /** Also publish remarketing_audience (remarketable carts only): off unless asked for. */
    remarketing_audience: z.boolean().default(false),
    /** Where the contract's layout starts inside the bucket, e.g. `exports/`. */
    prefix: z
      .string()
      .default('')
      .transform((p) => (p === '' || p.endsWith('/') ? p : `${p}/`)),
    /** An emulator's endpoint (tests, local development); unset in production. */
    api_endpoint: z.string().url().optional(),
    max_retries: z.number().int().min(0).max(10).default(3),
    max_retry_delay_seconds: z.number().positive().default(32),
    /** The project that owns (or will create) the bucket; ADC's project when absent. */
    project: z.string().optional(),
    // Bucket rules, applied by `cartlens gcp apply` (docs/google-cloud.md).
    location: z.string().default('southamerica-east1'),
    delete_after_days: z.number().int().min(1).default(90),
    storage_class_steps: z
      .array(z.object({ after_days: z.number().int().min(1), class: z.enum(['NEARLINE', 'COLDLINE', 'ARCHIVE']) }).strict())
      .default([]),
    soft_delete_days: z.number().int().min(0).max(90).default(7),
  })
  .strict();

export const configSchema = z
  .object({
    source: z.discriminatedUnion('type', [ga4ExportFilesSource, demoSource, ga4ExportBigQuerySource, ga4DataApiSource]),
    warehouse: z.discriminatedUnion('type', [duckdbWarehouse, bigqueryWarehouse]).default({ type: 'duckdb', path: '.cartlens/warehouse.duckdb', memory_limit: '384MB', lock_wait_seconds: 5 }),
    export: z.discriminatedUnion('type', [localExport, gcsExport]).default({ type: 'local', dir: '.cartlens/exports', remarketing_audience: false }),
    landing: z
      .object({
        /** Raw input lands here unchanged, content-addressed, with one manifest per run. */
        dir: z.string().default('.cartlens/landing'),
        /** Decompressed copies live here during a run only. */
        scratch_dir: z.string().optional(),
        /**
         * A .gz file may expand to at most this many times its size (GA4 exports expand 5–20×);
         * past it, and past 64 MiB, the file is refused as a gzip bomb and the other files run.
         */
        max_expansion_ratio: z.number().min(1).default(100),
      })
      .strict()
      .default({ dir: '.cartlens/landing', max_expansion_ratio: 100 }),
    /** The GA4 property's clock: what "yesterday" and "final" mean (never the machine's UTC date). */
    property: z
      .object({
        time_zone: z.string().default('America/Sao_Paulo'),
        /** Recent days computed again on every due run: GA4 revises them for about 72 hours. */
        lookback_days: z.number().int().min(1).max(30).default(3),
        /** The property's currency (ISO 4217): money in the tables is in it, as the export reports it. */
        currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as BRL or USD').default('BRL'),
      })
      .strict()
      .default({ time_zone: 'America/Sao_Paulo', lookback_days: 3, currency: 'BRL' }),
    /** Labels and number formats of the daily report and the dashboard; unset: pt-BR for a BRL property, else en. */
    locale: z.enum(['en', 'pt-BR']).optional(),
    /** `cartlens serve`, the dashboard (docs/dashboard.md). */
    serve: z
      .object({
        /** Any address but 127.0.0.1, ::1 or localhost needs `token`. */
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(8080),
        /** Asked of every request when set. A secret: use ${ENV}; CARTLENS_SERVE_TOKEN works too. */
        token: z.string().min(16, 'use at least 16 characters').optional(),
      })
      .strict()
      .default({ host: '127.0.0.1', port: 8080 }),
    /** `cartlens status`: how far the last day done may lag yesterday before it warns or fails (docs/operations.md). */
    freshness: z
      .object({
        /** Warn (exit 3) when the last day done is more than this many days behind yesterday. */
        warn_days_behind: z.number().int().min(0).default(1),
        /** Fail (exit 4) past this many days behind, or when no day is done yet. */
        error_days_behind: z.number().int().min(0).default(3),
      })
      .strict()
      .refine((f) => f.error_days_behind >= f.warn_days_behind, { message: 'error_days_behind must be at least warn_days_behind', path: ['error_days_behind'] })
      .default({ warn_days_behind: 1, error_days_behind: 3 }),
    /** Where failed or deferred days are reported (docs/operations.md). */
    alerts: z
      .object({
        /** A Slack or Google Chat incoming webhook. A secret: use ${ENV}. */
        webhook_url: z.string().url(),
        retries: z.number().int().min(0).max(10).default(3),
        /** Which day statuses raise an alert; `provisional` is the normal state of the lookback days. */
        on: z.array(z.enum(['failed', 'deferred', 'provisional'])).default(['failed', 'deferred']),
        /**
         * A run that republishes a date whose headline funnel metric moved by more than this share (in %)
         * of the value it was first published with alerts the date as `revised` (docs/operations.md).
         */
        on_restatement_above_pct: z.number().positive().optional(),
      })
      .strict()
      .optional(),
    /** When a published date is an anomaly against the median of its weekday over the 4 weeks before it (docs/operations.md). */
    anomalies: z
      .object({
        /** The abandonment rate: beyond ± this many percentage points. */
        rate_points: z.number().positive().max(100).default(5),
        /** Sessions, revenue and abandoned value: beyond ± this share of the baseline (0.3 = 30%). */
        relative_change: z.number().positive().default(0.3),
      })
      .strict()
      .default({ rate_points: 5, relative_change: 0.3 }),
    /** What a run may do to dates already published (docs/operations.md). */
    guards: z
      .object({
        /**
         * A republish that would lower a date's sessions by more than this share of what was
         * published (0.2 = 20%) is withheld as a blocking failure, unless the run says --accept-shrink.
         */
        max_shrink_share: z.number().min(0).max(1).default(0.2),
      })
      .strict()
      .default({ max_shrink_share: 0.2 }),
    /** How long identifiable raw data is kept (LGPD: no longer than needed). */
    retention: z
      .object({
        /** Landed input files and run manifests older than this are deleted. */
        landed_days: z.number().int().min(1).default(30),
        /** Quarantined events (verbatim lines) of days older than this are deleted. */
        quarantine_days: z.number().int().min(1).default(90),
        /** Staged events and items (they hold user_pseudo_id) of days older than this are deleted. */
        staged_days: z.number().int().min(1).default(90),
      })
      .strict()
      .default({ landed_days: 30, quarantine_days: 90, staged_days: 90 }),
    /** The daily schedule of `cartlens schedule`, in property.time_zone. */
    schedule: z
      .object({
        /** `HH:MM`, or several (`[06:30, 12:30, 18:30]`): with source.intraday, each run refreshes today's provisional files. */
        at: z.union([clockTime, z.array(clockTime).min(1)]).default('06:30'),
        /** Attempts at a failed run (transient errors only), with growing waits. */
        retries: z.number().int().min(0).max(10).default(3),
        retry_wait_seconds: z.number().positive().default(300),
      })
      .strict()
      .default({ at: '06:30', retries: 3, retry_wait_seconds: 300 }),
    /** Checks beyond those declared beside the models (docs/operations.md). */
    assertions: z
      .array(
        z
          .object({
            model: z.string(),
            kind: z.enum(['unique', 'not_null', 'accepted_values', 'row', 'volume']),
            check: z.string().min(1),
            severity: z.enum(['warn', 'error']).default('error'),
            blocking: z.boolean().optional(),
          })
          .strict(),
      )
      .default([]),
    privacy: z
      .object({
        /**
         * HMAC key for `user_key`. A secret: never logged or printed. When absent, a random key is
         * made once and kept beside the warehouse (`<warehouse>.user-key`), so keys stay stable.
         */
        user_key_secret: z.string().min(16, 'use at least 16 characters').optional(),
      })
      .strict()
      .default({}),
  })
  .strict()
  .superRefine((config, ctx) => {
    // cart_recoveries of a date reads the carts and purchases of the 17 dates before it, and a run
    // recomputes the last lookback_days: staged events (raw user ids) must outlive both.
    const needed = config.property.lookback_days + RECOVERY_EVENT_DATES.before;
    if (config.source.type !== 'ga4-data-api' && config.retention.staged_days < needed) {
      ctx.addIssue({
        code: 'custom',
        path: ['retention', 'staged_days'],
        message: `is ${config.retention.staged_days}, and cart_recoveries needs at least ${needed}: a date's recoveries read the carts and purchases of the ${RECOVERY_EVENT_DATES.before} dates before it, and each run recomputes the last ${config.property.lookback_days} (property.lookback_days); with fewer, a recomputed date would lose carts and publish fewer recoveries`,
      });
    }
    // BigQuery cannot write to, nor EXPORT DATA into, a bucket in another location.
    if (config.warehouse.type === 'bigquery' && config.export.type === 'gcs' && config.warehouse.location.toLowerCase() !== config.export.location.toLowerCase()) {
      ctx.addIssue({
        code: 'custom',
        path: ['export', 'location'],
        message: `the bucket's location (${config.export.location}) must equal the dataset's (warehouse.location: ${config.warehouse.location})`,
      });
    }
  })
  // A store that sells in reais reads Brazilian Portuguese unless it says otherwise.
  .transform((config) => ({ ...config, locale: config.locale ?? (config.property.currency === 'BRL' ? ('pt-BR' as const) : ('en' as const)) }));

export type CartlensConfig = z.infer<typeof configSchema>;
export type SourceConfig = CartlensConfig['source'];
export type WarehouseConfig = CartlensConfig['warehouse'];
export type BigQueryWarehouseConfig = Extract<WarehouseConfig, { type: 'bigquery' }>;
export type ExportConfig = CartlensConfig['export'];

/** Config keys whose values are secrets: never printed, logged or written to a report. */
export const SECRET_KEYS = ['privacy.user_key_secret', 'alerts.webhook_url'] as const;
