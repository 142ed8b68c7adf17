# Build stage: needs the dev dependencies (typescript) that the runtime image does not.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json ./
COPY src ./src
COPY sql ./sql
COPY config ./config
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/sql ./sql
COPY --from=build /app/config ./config
# The image never runs its own database, so it needs no root.
USER node
EXPOSE 11211
# Settings come as flags after serve or as MEMGATE_* variables, for instance
#   MEMGATE_WORKERS=auto              one worker per core the container may use (docs/workers.md)
#   MEMGATE_DB_SSL_MODE=verify-ca     with MEMGATE_DB_SSL_CA=/certs/ca.pem mounted read-only (docs/database-tls.md)
# On SIGTERM (docker stop) the gateway drains its connections within MEMGATE_SHUTDOWN_GRACE_MS;
# docker stop's default 10 s wait covers the default 5 s.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "dist/src/cli/memgate.js"]
CMD ["serve", "--host", "0.0.0.0", "--port", "11211"]
