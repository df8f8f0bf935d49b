import type { BigQuery } from '@google-cloud/bigquery';
import { CartlensError } from '../../util/errors.js';

/** The slice of the BigQuery SDK that reads and creates datasets. */
export type DatasetAdminLike = Pick<BigQuery, 'dataset' | 'createDataset'>;

export interface DatasetChange {
  dataset: string;
  kind: 'create' | 'impossible';
  from?: string;
  to: string;
}

/** What `apply` would do to the warehouse's datasets: create missing ones; a wrong location cannot be fixed. */
export async function planDatasets(bigquery: DatasetAdminLike, datasets: string[], location: string): Promise<DatasetChange[]> {
  const changes: DatasetChange[] = [];
  for (const dataset of datasets) {
    let live: string | undefined;
    try {
      const [metadata] = await bigquery.dataset(dataset).getMetadata();
      live = String((metadata as { location?: string }).location ?? '');
    } catch (error) {
      if ((error as { code?: number }).code !== 404) {
        throw new CartlensError(`cannot read dataset ${dataset}: ${(error as Error).message}`, 'check Application Default Credentials and warehouse.project', false, { cause: error });
      }
    }
    if (live === undefined) changes.push({ dataset, kind: 'create', to: location });
    else if (live.toLowerCase() !== location.toLowerCase()) changes.push({ dataset, kind: 'impossible', from: live, to: location });
  }
  return changes;
}

export async function applyDatasets(bigquery: DatasetAdminLike, changes: DatasetChange[]): Promise<void> {
  const impossible = changes.find((c) => c.kind === 'impossible');
  if (impossible) {
    throw new CartlensError(`dataset ${impossible.dataset} is in ${impossible.from}, the config says ${impossible.to}`, 'a dataset cannot move: create the datasets in the bucket\'s location under new names');
  }
  for (const change of changes) await bigquery.createDataset(change.dataset, { location: change.to });
}
