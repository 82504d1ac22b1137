# Image for the compose path: one image holds every workspace; each service runs its own main.js.
FROM node:24-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends git && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json tsconfig*.json ./
# Every workspace of package.json: npm ci installs them all and tsc -b tsconfig.json builds them all.
COPY libraries libraries
COPY gateway gateway
COPY services services
COPY bench bench
COPY faults faults
COPY jmeter jmeter
COPY tests tests
COPY scripts scripts
COPY config-repo config-repo
RUN npm ci --no-audit --no-fund && npx tsc -b tsconfig.json && node services/console/page/build.mjs && git init -q && git add config-repo && git -c user.email=ci@local -c user.name=ci commit -qm config
