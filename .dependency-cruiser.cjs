/**
 * The layers of docs/architecture.md, as rules that `npm test` checks (npm run depcruise).
 * Each rule's comment is what the report prints when an import breaks it.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-import-cycles',
      severity: 'error',
      comment: 'modules import each other in a circle (type-only imports count): move the shared part into a module both import',
      from: {},
      to: { circular: true },
    },
    {
      name: 'contract-imports-nothing-from-the-project',
      severity: 'error',
      comment: 'src/contract/ is the published contract and imports nothing from the project: move what it needs into the contract',
      from: { path: '^src/contract/' },
      to: { path: '^src/', pathNot: '^src/contract/' },
    },
    {
      name: 'util-imports-only-util-and-contract',
      severity: 'error',
      comment: 'src/util/ is below every layer and imports only src/util/ and src/contract/',
      from: { path: '^src/util/' },
      to: { path: '^src/', pathNot: '^src/(util|contract)/' },
    },
    {
      name: 'config-imports-only-contract-and-util',
      severity: 'error',
      comment: 'src/config/ reads and checks the config; it imports only src/contract/ and src/util/',
      from: { path: '^src/config/' },
      to: { path: '^src/', pathNot: '^src/(config|contract|util)/' },
    },
    {
      name: 'adapters-never-import-the-run',
      severity: 'error',
      comment: 'an adapter (src/warehouse, src/exports, src/sources) never imports the run (src/pipeline) or what sits above it: pass what it needs in, or move it to src/util or src/contract',
      from: { path: '^src/(warehouse|exports|sources)/' },
      to: { path: '^src/(pipeline|ops|cli|cloud|dashboard|reports|dataform)/' },
    },
    {
      name: 'dashboard-and-reports-only-read',
      severity: 'error',
      comment: 'src/dashboard and src/reports only read published tables: they never import the run (src/pipeline), alerts and retention (src/ops), or an exporter (only its interface, src/exports/exporter.ts)',
      from: { path: '^src/(dashboard|reports)/' },
      to: { path: '^src/(pipeline|ops|cli|cloud)/|^src/exports/(local|gcs|index\\.ts)' },
    },
    {
      name: 'models-import-only-the-dialect-interface',
      severity: 'error',
      comment: 'src/models compiles SQL text: it imports only the contract, util and the dialect interface',
      from: { path: '^src/models/' },
      to: { path: '^src/', pathNot: '^src/(models|contract|util)/|^src/warehouse/(dialect|sql-template|sql-literals)\\.ts$' },
    },
    {
      name: 'only-the-cli-starts-dev-tools',
      severity: 'error',
      comment: 'src/dev (the local Google Cloud) is a development tool: only the CLI starts it',
      from: { path: '^src/', pathNot: '^src/(dev|cli)/' },
      to: { path: '^src/dev/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports are dependencies of the design too.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
