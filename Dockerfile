# foreman: one self-contained executable in a FROM scratch image (ADR 0010).
# Build: docker build -t foreman .   Run: see docker-compose.yml and docs/deploy.md.

# --- build: compile the executable and gather its run-time files into /out/rootfs
FROM oven/bun:1.4.5 AS build
WORKDIR /src
COPY package.json package-lock.json ./
# versions come from package-lock.json (bun migrates it); run-time dependencies only, without
# optional platform binaries: the `bun` package's runtime (for bin/foreman.mjs under Node, ADR 0023)
# is not needed where the image's own bun compiles the executable
RUN bun install --production --ignore-scripts --omit=optional
COPY tsconfig.json ./
COPY src ./src
COPY routes ./routes
COPY jobs ./jobs
COPY clients/ts ./clients/ts
COPY scripts ./scripts
RUN bun build --compile --outfile /out/foreman src/main.ts \
 && sh scripts/rootfs.sh /out/foreman /out/rootfs

# --- the image: the executable, the loader and libc, CA certificates, /tmp, /data
FROM scratch
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="foreman" \
      org.opencontainers.image.description="A queued, observable, Ollama- and OpenAI-compatible job endpoint in front of one Ollama server" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.source="https://example.invalid/foreman"
COPY --from=build /out/rootfs/ /
COPY --from=build /out/foreman /foreman
# Bun's fetch queues requests past 256 in flight; direct routes can have more open (ADR 0030)
ENV FOREMAN_DB=/data/foreman.db \
    FOREMAN_HOST=0.0.0.0 \
    FOREMAN_PORT=8080 \
    BUN_CONFIG_MAX_HTTP_REQUESTS=4096
USER 10001:10001
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["/foreman", "healthcheck"]
ENTRYPOINT ["/foreman"]
CMD ["serve"]
