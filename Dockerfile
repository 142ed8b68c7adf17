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
ENTRYPOINT ["node", "dist/src/cli/memgate.js"]
CMD ["serve", "--host", "0.0.0.0", "--port", "11211"]
