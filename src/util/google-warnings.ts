/**
 * google-auth looks for the Google Cloud metadata server when it resolves credentials. Off Google
 * Cloud that lookup fails by design, and gcp-metadata then prints a raw `MetadataLookupWarning`
 * ("received unexpected error = All promises were rejected code = UNKNOWN") that points nowhere.
 * cartlens already reports what matters: missing credentials as a CredentialsError with the fix,
 * an unreachable API as a NetworkError (src/util/errors.ts). So that warning is dropped, or with
 * `onLookupFailure` turned into one line of ours; every other warning is printed as before.
 */
export function quietMetadataLookupWarnings(onLookupFailure?: (line: string) => void): void {
  if (installed) return;
  installed = true;
  const emitWarning = process.emitWarning.bind(process) as (warning: string | Error, ...rest: unknown[]) => void;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const option = rest[0];
    const type = warning instanceof Error ? warning.name : typeof option === 'string' ? option : (option as { type?: string } | undefined)?.type;
    if (type !== 'MetadataLookupWarning') return emitWarning(warning, ...rest);
    onLookupFailure?.(`the Google Cloud metadata server did not answer (${warning instanceof Error ? warning.message : warning}): outside Google Cloud, credentials come from GOOGLE_APPLICATION_CREDENTIALS or \`gcloud auth application-default login\``);
  }) as typeof process.emitWarning;
}

let installed = false;
