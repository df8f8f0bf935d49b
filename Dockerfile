# The same job as a Cloud Run job (or anywhere containers run): `cartlens run --config …`.
# Build: docker build -t cartlens .   Run: docker run --rm -v "$PWD/data:/data" cartlens run --config /data/cartlens.yaml
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY src ./src
COPY function.js ./
USER node
ENTRYPOINT ["node", "bin/cartlens.js"]
CMD ["--help"]
