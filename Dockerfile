# The same job as a Cloud Run job (or anywhere containers run): `cartlens run --config …`.
# Build: docker build -t cartlens .   Run: docker run --rm -v "$PWD/data:/data" cartlens run --config /data/cartlens.yaml
# Three stages: the production dependencies, the build (dev dependencies: esbuild) and the image,
# which holds dist/ and the production dependencies only (no src/, no TypeScript, no tsx).
# --ignore-scripts: the package's own `prepare` (the build) is run explicitly in the build stage
# and must not run where esbuild is not installed; no dependency needs its install script
# (DuckDB's and esbuild's binaries come prebuilt, as optional packages per platform).
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# ZetaSQL's engine serves `cartlens dev gcp` (a local BigQuery) only: 341 MB the job never loads.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && rm -rf node_modules/@fivetrandevelopers/zetasql

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/build.js ./scripts/
COPY src ./src
RUN npm run build

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY function.js ./
USER node
ENTRYPOINT ["node", "bin/cartlens.js"]
CMD ["--help"]
