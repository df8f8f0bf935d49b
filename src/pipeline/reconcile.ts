import type { Warehouse } from '../warehouse/warehouse.js';
import { reconcileSql } from '../warehouse/state-sql.js';

export interface Drift {
  measure: 'add_to_cart_units' | 'purchased_units' | 'purchases' | 'revenue';
  export: number;
  api: number;
  /** |api − export| / export (api − export when export is 0). */
  drift: number;
  beyond_tolerance: boolean;
}

export interface Reconciliation {
  date: string;
  tolerance: number;
  drifts: Drift[];
  warnings: string[];
}

/**
 * Compares one day of the same property read two ways — its export (cart_items_daily,
 * cart_funnel_daily) and the Data API (ga4_api_items_daily, ga4_api_funnel_daily) — in one
 * warehouse, on additive measures only. GA4 processes the two differently (thresholds, late
 * hits, consent), so some drift is normal; beyond `tolerance` it is a warning.
 */
export async function reconcile(warehouse: Warehouse, date: string, tolerance: number): Promise<Reconciliation> {
  const [row] = await warehouse.query(reconcileSql(warehouse.dialect, date));
  const warnings: string[] = [];
  const drifts = (['add_to_cart_units', 'purchased_units', 'purchases', 'revenue'] as const).map((measure): Drift => {
    const exported = Number(row?.[`export_${measure}`] ?? 0);
    const api = Number(row?.[`api_${measure}`] ?? 0);
    const drift = exported === 0 ? api - exported : Math.abs(api - exported) / exported;
    const beyond = Math.abs(drift) > tolerance;
    if (beyond) warnings.push(`${date}: ${measure} drifts ${(drift * 100).toFixed(1)}% between the export (${exported}) and the Data API (${api}), beyond ${(tolerance * 100).toFixed(1)}%`);
    return { measure, export: exported, api, drift: Math.round(drift * 1e6) / 1e6, beyond_tolerance: beyond };
  });
  if (row?.export_purchases === null || row?.api_purchases === null) {
    warnings.push(`${date}: ${row?.export_purchases === null ? 'the export' : 'the Data API'} has no numbers for this date: run both sources for it first`);
  }
  return { date, tolerance, drifts, warnings };
}
