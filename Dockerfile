# The operator image: the manager and the Jobs' `job …` commands share one CLI entrypoint.
# Not built on the development machines (no container engine there); see README "Image".
FROM node:26-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN node_modules/.bin/tsc -p tsconfig.build.json && npm prune --omit=dev

FROM node:26-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Non-root, and nothing under /app needs to be written: runs with a read-only root filesystem.
USER 65532:65532
ENTRYPOINT ["node", "/app/dist/main.js"]
