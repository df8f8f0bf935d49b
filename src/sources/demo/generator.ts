import { createWriteStream } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { createGzip, constants as zlibConstants } from 'node:zlib';
import { SeededRandom, ZipfSampler } from './random.js';
import { buildCatalog, type CatalogItem } from './catalog.js';
import { type DirtyKind, injectDirt, kindsFor } from './dirt.js';

export interface DemoOptions {
  outDir: string;
  days: number;
  sessionsPerDay: number;
  /** First local date, `YYYY-MM-DD`. */
  startDate: string;
  seed: number;
  /** Share of events that get one of the contract's dirty cases (0 for clean data). */
  dirtyRate: number;
  /** Hours east of UTC of the property's time zone (America/Sao_Paulo: -3, no DST since 2019). */
  utcOffsetHours: number;
  catalogSize: number;
  onProgress?: (eventsWritten: number) => void;
}

export interface DemoDayStats {
  date: string;
  file: string;
  sessions: number;
  events: number;
  lines: number;
  dirty: Partial<Record<DirtyKind, number>>;
}

type Json = Record<string, unknown>;

interface SessionContext {
  random: SeededRandom;
  eventDate: string;
  userPseudoId: string;
  userId: string | null;
  sessionId: number;
  device: Json;
  geo: Json;
  trafficSource: Json;
  firstTouch: number;
  clock: number;
  bundle: number;
  /** Consent mode's ads_storage on the session's events: granted, denied, or never said. */
  adsStorage: 'Yes' | 'No' | undefined;
  /** A consent update part-way: from this many events on, ads_storage becomes `to`. */
  consentUpdate: { afterEvents: number; to: 'Yes' | 'No' } | undefined;
  eventsSoFar: number;
}

const DEVICES = {
  mobile: { category: 'mobile', mobile_brand_name: 'Samsung', operating_system: 'Android', browser: 'Chrome' },
  desktop: { category: 'desktop', mobile_brand_name: 'Google', operating_system: 'Windows', browser: 'Chrome' },
  tablet: { category: 'tablet', mobile_brand_name: 'Apple', operating_system: 'iOS', browser: 'Safari' },
} as const;
const COUNTRIES = { Brazil: 82, Portugal: 6, Argentina: 4, 'United States': 5, Chile: 3 };
const REGIONS: Record<string, string[]> = {
  Brazil: ['São Paulo', 'Rio de Janeiro', 'Minas Gerais', 'Paraná', 'Bahia', 'Pernambuco'],
  Portugal: ['Lisboa', 'Porto'],
  Argentina: ['Buenos Aires'],
  'United States': ['Florida', 'New York'],
  Chile: ['Santiago'],
};
/** Consent mode as stores see it with a banner: most grant ads storage, some deny, a few never answer. */
const CONSENT = { Yes: 70, No: 20, unset: 10 };
/** Share of sessions whose consent changes part-way (a banner answered late, or withdrawn). */
const CONSENT_UPDATE_RATE = 0.08;
/** Share of abandoned carts whose user comes back later the same day and buys them. */
const RETURN_PURCHASE_RATE = 0.12;

const SOURCES = {
  'google / organic': 40,
  'google / cpc': 18,
  '(direct) / (none)': 20,
  'instagram / social': 10,
  'newsletter / email': 7,
  'facebook / paid_social': 5,
};

/**
 * Writes a realistic GA4 BigQuery-export (one `events_YYYYMMDD.json.gz` per local day): sessions
 * walk the cart funnel, item popularity is Zipf-like, INT64 fields are strings as BigQuery's JSON
 * export writes them, and at `dirtyRate` an event carries one of the contract's dirty cases.
 * Output depends only on the options: the same seed gives the same bytes.
 */
export async function generateDemoExport(options: DemoOptions): Promise<DemoDayStats[]> {
  await mkdir(options.outDir, { recursive: true });
  const random = new SeededRandom(options.seed);
  const catalog = buildCatalog(random, options.catalogSize);
  const zipf = new ZipfSampler(catalog.length, 1.07);
  const returningUsers: string[] = [];
  const stats: DemoDayStats[] = [];
  let transactionSeq = 0;
  let eventsWritten = 0;

  for (let day = 0; day < options.days; day++) {
    const localMidnightUtcMs = Date.parse(`${options.startDate}T00:00:00Z`) + day * 86_400_000 - options.utcOffsetHours * 3_600_000;
    const isoDate = new Date(localMidnightUtcMs + options.utcOffsetHours * 3_600_000).toISOString().slice(0, 10);
    const eventDate = isoDate.replaceAll('-', '');
    const file = join(options.outDir, `events_${eventDate}.json.gz`);
    const writer = new GzipLineWriter(`${file}.tmp`);
    const dayStats: DemoDayStats = { date: isoDate, file, sessions: 0, events: 0, lines: 0, dirty: {} };

    // Sessions start in time order through the local day, busier in the evening.
    const starts: number[] = [];
    for (let s = 0; s < options.sessionsPerDay; s++) {
      const hour = random.chance(0.55) ? 12 + random.next() * 11.5 : random.next() * 23.5;
      starts.push(localMidnightUtcMs + Math.floor(hour * 3_600_000) + random.int(0, 59_999));
    }
    starts.sort((a, b) => a - b);

    for (const startMs of starts) {
      const returning = returningUsers.length > 50 && random.chance(0.3);
      const userPseudoId = returning
        ? random.pick(returningUsers)
        : `${random.int(100_000_000, 999_999_999)}.${Math.floor(startMs / 1000)}`;
      if (!returning && random.chance(0.2)) returningUsers.push(userPseudoId);
      const deviceKey = random.weighted({ mobile: 62, desktop: 33, tablet: 5 });
      const country = random.weighted(COUNTRIES);
      const [source, medium] = random.weighted(SOURCES).split(' / ') as [string, string];
      const d = DEVICES[deviceKey];
      const ctx: SessionContext = {
        random,
        eventDate,
        userPseudoId,
        userId: random.chance(0.25) ? `cliente-${random.int(1, 50_000)}` : null,
        sessionId: Math.floor(startMs / 1000),
        device: {
          category: d.category,
          mobile_brand_name: d.mobile_brand_name,
          mobile_model_name: null,
          operating_system: d.operating_system,
          operating_system_version: null,
          language: country === 'Brazil' ? 'pt-br' : 'en-us',
          is_limited_ad_tracking: 'No',
          web_info: { browser: d.browser, browser_version: '131.0', hostname: 'loja.example.com.br' },
        },
        geo: { continent: 'Americas', sub_continent: 'South America', country, region: random.pick(REGIONS[country]!), city: '(not set)', metro: '(not set)' },
        trafficSource: { name: medium === 'cpc' ? 'black_friday' : '(organic)', medium, source },
        firstTouch: startMs * 1000 - (returning ? random.int(1, 60) * 86_400_000_000 : 0),
        clock: startMs * 1000,
        bundle: random.int(1_000_000, 9_999_999),
        ...consentOf(random),
        eventsSoFar: 0,
      };
      const nextTransactionId = () => `T${String(++transactionSeq).padStart(8, '0')}`;
      const { events, abandoned } = simulateSession(ctx, catalog, zipf, nextTransactionId);
      dayStats.sessions++;
      // Some come back later the same local day and buy the cart they left (remarketing must not chase them).
      const returnAt = Math.floor(ctx.clock / 1000) + random.int(20, 240) * 60_000;
      if (abandoned && random.chance(RETURN_PURCHASE_RATE) && returnAt < localMidnightUtcMs + 86_400_000) {
        const back: SessionContext = { ...ctx, sessionId: Math.floor(returnAt / 1000), clock: returnAt * 1000, bundle: random.int(1_000_000, 9_999_999), ...consentOf(random), eventsSoFar: 0 };
        events.push(...simulateReturnPurchase(back, abandoned, nextTransactionId));
        dayStats.sessions++;
      }
      for (const event of events) {
        // Purchases are few, so their dirty cases come at a higher rate to show up every day.
        const rate = event.event_name === 'purchase' ? Math.min(1, options.dirtyRate * 25) : options.dirtyRate;
        const dirtKind = rate > 0 && random.chance(rate) ? random.pick(kindsFor(event)) : undefined;
        const lines = dirtKind ? injectDirt(dirtKind, event, random) : [JSON.stringify(event)];
        if (dirtKind) dayStats.dirty[dirtKind] = (dayStats.dirty[dirtKind] ?? 0) + 1;
        for (const line of lines) await writer.write(line);
        dayStats.lines += lines.length;
        dayStats.events++;
        eventsWritten++;
        if (eventsWritten % 50_000 === 0) options.onProgress?.(eventsWritten);
      }
    }
    await writer.close();
    await rename(`${file}.tmp`, file);
    stats.push(dayStats);
  }
  options.onProgress?.(eventsWritten);
  return stats;
}

/** A session's consent: its ads_storage at the start and, for a few, a change part-way. */
function consentOf(random: SeededRandom): Pick<SessionContext, 'adsStorage' | 'consentUpdate'> {
  const answer = random.weighted(CONSENT);
  const adsStorage = answer === 'unset' ? undefined : answer;
  const consentUpdate = random.chance(CONSENT_UPDATE_RATE) ? { afterEvents: random.int(1, 4), to: adsStorage === 'Yes' ? ('No' as const) : ('Yes' as const) } : undefined;
  return { adsStorage, consentUpdate };
}

type CartLine = [CatalogItem, { units: number; price: number }];

/** A user back for the cart they left: straight to checkout and purchase of the same lines. */
function simulateReturnPurchase(ctx: SessionContext, lines: CartLine[], nextTransactionId: () => string): Json[] {
  const items = lines.map(([item, line]) => itemRecord(item, line.units, line.price));
  const value = round2(lines.reduce((sum, [, line]) => sum + line.units * line.price, 0));
  const transactionId = nextTransactionId();
  return [
    event(ctx, 'session_start', { page_location: 'https://loja.example.com.br/carrinho' }),
    event(ctx, 'view_cart', {}, { currency: 'BRL', value }, items),
    event(ctx, 'begin_checkout', {}, { currency: 'BRL', value }, items),
    event(ctx, 'purchase', { transaction_id: transactionId }, {
      currency: 'BRL', value, transaction_id: transactionId, purchase_revenue: value, shipping_value: 0, tax_value: 0,
      total_item_quantity: lines.reduce((sum, [, line]) => sum + line.units, 0), unique_items: lines.length,
    }, lines.map(([item, line]) => ({ ...itemRecord(item, line.units, line.price), item_revenue: round2(line.units * line.price) }))),
  ];
}

/** A session's events and, when it ends with an abandoned cart, that cart's lines. */
function simulateSession(ctx: SessionContext, catalog: CatalogItem[], zipf: ZipfSampler, nextTransactionId: () => string): { events: Json[]; abandoned?: CartLine[] } {
  const { random } = ctx;
  const events: Json[] = [];
  const pageLocation = 'https://loja.example.com.br/';
  events.push(event(ctx, 'session_start', { page_location: pageLocation }));
  events.push(event(ctx, 'page_view', { page_location: pageLocation, page_title: 'Loja Exemplo' }));

  const viewed: CatalogItem[] = [];
  const viewCount = random.int(0, 5);
  for (let v = 0; v < viewCount; v++) {
    const item = catalog[zipf.sample(random)]!;
    viewed.push(item);
    events.push(event(ctx, 'view_item', { page_location: `${pageLocation}p/${item.item_id}` }, { currency: 'BRL', value: item.price }, [itemRecord(item, 1)]));
  }
  if (viewed.length === 0 || !random.chance(0.38)) return { events };

  // The cart: units per item, with the price shown at the last add (prices may change mid-session).
  const cart = new Map<CatalogItem, { units: number; price: number }>();
  const adds = random.int(1, 3);
  for (let a = 0; a < adds; a++) {
    const item = random.chance(0.8) ? random.pick(viewed) : catalog[zipf.sample(random)]!;
    const quantity = random.chance(0.85) ? 1 : random.int(2, 4);
    const price = random.chance(0.05) ? Math.round(item.price * 0.9 * 100) / 100 : item.price;
    const line = cart.get(item) ?? { units: 0, price };
    line.units += quantity;
    line.price = price;
    cart.set(item, line);
    events.push(event(ctx, 'add_to_cart', {}, { currency: 'BRL', value: round2(price * quantity) }, [itemRecord(item, quantity, price)]));
  }
  if (random.chance(0.18)) {
    const [item, line] = random.pick([...cart.entries()]);
    const quantity = random.chance(0.7) ? line.units : 1;
    line.units -= quantity;
    events.push(event(ctx, 'remove_from_cart', {}, { currency: 'BRL', value: round2(line.price * quantity) }, [itemRecord(item, quantity, line.price)]));
  }
  const inCart = [...cart.entries()].filter(([, line]) => line.units > 0);
  const cartItems = () => inCart.map(([item, line]) => itemRecord(item, line.units, line.price));
  const cartValue = round2(inCart.reduce((sum, [, line]) => sum + line.units * line.price, 0));
  if (random.chance(0.5)) events.push(event(ctx, 'view_cart', {}, { currency: 'BRL', value: cartValue }, cartItems()));
  const left = () => ({ events, ...(inCart.length > 0 ? { abandoned: inCart } : {}) });
  if (inCart.length === 0 || !random.chance(0.45)) return left();

  events.push(event(ctx, 'begin_checkout', {}, { currency: 'BRL', value: cartValue }, cartItems()));
  if (!random.chance(0.85)) return left();
  events.push(event(ctx, 'add_shipping_info', { shipping_tier: random.pick(['PAC', 'SEDEX']) }, { currency: 'BRL', value: cartValue }, cartItems()));
  if (!random.chance(0.85)) return left();
  events.push(event(ctx, 'add_payment_info', { payment_type: random.pick(['Pix', 'Cartão de crédito', 'Boleto']) }, { currency: 'BRL', value: cartValue }, cartItems()));
  if (!random.chance(0.72)) return left();

  const shipping = random.pick([0, 0, 14.9, 24.9]);
  const transactionId = nextTransactionId();
  events.push(
    event(ctx, 'purchase', { transaction_id: transactionId }, {
      currency: 'BRL',
      value: round2(cartValue + shipping),
      transaction_id: transactionId,
      purchase_revenue: round2(cartValue + shipping),
      shipping_value: shipping,
      tax_value: 0,
      total_item_quantity: inCart.reduce((sum, [, line]) => sum + line.units, 0),
      unique_items: inCart.length,
    }, inCart.map(([item, line]) => ({ ...itemRecord(item, line.units, line.price), item_revenue: round2(line.units * line.price) }))),
  );
  return { events };
}

function event(ctx: SessionContext, name: string, params: Record<string, string | number>, ecommerce?: Json, items?: Json[]): Json {
  // Events are seconds apart; a few share a timestamp with the previous one, as batched hits do.
  if (!ctx.random.chance(0.02)) ctx.clock += ctx.random.int(1, 90) * 1_000_000 + ctx.random.int(0, 999_999);
  if (ctx.consentUpdate && ctx.eventsSoFar === ctx.consentUpdate.afterEvents) ctx.adsStorage = ctx.consentUpdate.to;
  ctx.eventsSoFar++;
  const eventParams: Json[] = [
    { key: 'ga_session_id', value: { int_value: String(ctx.sessionId) } },
    { key: 'ga_session_number', value: { int_value: '1' } },
    { key: 'engaged_session_event', value: { int_value: '1' } },
  ];
  for (const [key, value] of Object.entries(params)) {
    eventParams.push({ key, value: typeof value === 'number' ? { int_value: String(value) } : { string_value: value } });
  }
  return {
    event_date: ctx.eventDate,
    event_timestamp: String(ctx.clock),
    event_name: name,
    event_params: eventParams,
    event_previous_timestamp: null,
    event_value_in_usd: null,
    event_bundle_sequence_id: String(ctx.bundle++),
    event_server_timestamp_offset: null,
    user_id: ctx.userId,
    user_pseudo_id: ctx.userPseudoId,
    privacy_info: ctx.adsStorage === undefined ? { analytics_storage: 'Yes', uses_transient_token: 'No' } : { analytics_storage: 'Yes', ads_storage: ctx.adsStorage, uses_transient_token: 'No' },
    user_properties: [],
    user_first_touch_timestamp: String(ctx.firstTouch),
    user_ltv: null,
    device: ctx.device,
    geo: ctx.geo,
    app_info: null,
    traffic_source: ctx.trafficSource,
    stream_id: '4178293121',
    platform: 'WEB',
    event_dimensions: null,
    ecommerce: ecommerce ?? null,
    items: items ?? [],
    is_active_user: true,
  };
}

function itemRecord(item: CatalogItem, quantity: number, price = item.price): Json {
  return {
    item_id: item.item_id,
    item_name: item.item_name,
    item_brand: item.item_brand,
    item_variant: null,
    item_category: item.item_category,
    item_category2: item.item_category2,
    price_in_usd: round2(price / 5.3),
    price,
    quantity,
    item_revenue_in_usd: null,
    item_revenue: null,
    coupon: null,
    affiliation: 'Loja Exemplo',
    item_list_name: null,
    promotion_name: null,
  };
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Buffers lines and writes them gzip-compressed, honouring back-pressure. */
class GzipLineWriter {
  private readonly gzip = createGzip({ level: zlibConstants.Z_BEST_SPEED });
  private readonly done: Promise<unknown>;
  private buffer: string[] = [];
  private bufferedChars = 0;

  constructor(path: string) {
    const out = createWriteStream(path);
    this.gzip.pipe(out);
    this.done = once(out, 'close');
  }

  async write(line: string): Promise<void> {
    this.buffer.push(line);
    this.bufferedChars += line.length + 1;
    if (this.bufferedChars > 1 << 20) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const chunk = this.buffer.join('\n') + '\n';
    this.buffer = [];
    this.bufferedChars = 0;
    if (!this.gzip.write(chunk)) await once(this.gzip, 'drain');
  }

  async close(): Promise<void> {
    await this.flush();
    this.gzip.end();
    await this.done;
  }
}
