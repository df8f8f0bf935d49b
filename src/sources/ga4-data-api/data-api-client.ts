import { BetaAnalyticsDataClient } from '@google-analytics/data';
import { OAuth2Client } from 'google-auth-library';
import type { Ga4DataClientLike } from './fetcher.js';

/**
 * The real Data API client: Application Default Credentials in production; against the local
 * emulator (`http://127.0.0.1:PORT`), the REST fallback over plain HTTP with a placeholder token.
 */
export function openDataClient(apiEndpoint?: string): Ga4DataClientLike {
  if (!apiEndpoint) return new BetaAnalyticsDataClient();
  const url = new URL(apiEndpoint);
  const emulatorAuth = new OAuth2Client();
  emulatorAuth.setCredentials({ access_token: 'emulator' });
  return new BetaAnalyticsDataClient({
    apiEndpoint: url.hostname,
    port: Number(url.port),
    protocol: url.protocol.replace(':', ''),
    fallback: true,
    authClient: emulatorAuth,
    // google-auth-library resolves to two copies (ours and the client's); they are the same API.
  } as unknown as ConstructorParameters<typeof BetaAnalyticsDataClient>[0]);
}
