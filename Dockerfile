# storefront-auth: the server and its operator CLI.
#   docker build -t storefront-auth .
#   docker run -p 8080:8080 -v sfa-data:/data storefront-auth
# packages/server/test/deploy/dockerfile.test.ts performs these steps without a container engine:
# keep every RUN runnable by that test (no apt-get; the build image has the compilers).

# Production dependencies only. better-sqlite3 is native: the full image has python3, make and g++.
FROM node:24-bookworm AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/server/package.json packages/server/
COPY packages/sdk/package.json packages/sdk/
COPY packages/verify/package.json packages/verify/
# No lifecycle scripts (the root's prepare would compile TypeScript, which is not installed here);
# then the one native module is built on its own.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm rebuild better-sqlite3

# The compiled server: every dependency, TypeScript included, and nothing of it kept.
FROM node:24-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.base.json ./
COPY packages/server/package.json packages/server/
COPY packages/sdk/package.json packages/sdk/
COPY packages/verify/package.json packages/verify/
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY packages/server/tsconfig.json packages/server/
COPY packages/server/src packages/server/src
RUN node node_modules/typescript/bin/tsc -b packages/server

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    DATABASE_URL=sqlite:/data/storefront-auth.db
COPY --from=deps /app/node_modules node_modules
COPY --from=build /app/packages/server/dist packages/server/dist
COPY package.json ./
COPY packages/server/package.json packages/server/openapi.json packages/server/
# The image's own non-root user (uid 1000) owns the data volume; the database files are 0600.
RUN mkdir -p /data && chown node:node /data
VOLUME /data
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# Exec form: node is PID 1 and receives SIGTERM itself (graceful shutdown), no shell or npm between.
CMD ["node", "packages/server/dist/main.js"]
