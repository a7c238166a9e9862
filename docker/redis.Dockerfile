# The replicas' shared judgement cache and global judge limit: Debian's redis-server.
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends redis-server \
 && rm -rf /var/lib/apt/lists/* && useradd --system --no-create-home --uid 10003 cache
USER 10003
EXPOSE 6379
HEALTHCHECK --interval=3s --timeout=3s --start-period=3s --retries=20 CMD ["redis-cli", "ping"]
# A cache: no persistence; under memory pressure evict judgements (they carry a TTL), never the limiter's keys.
CMD ["redis-server", "--bind", "0.0.0.0", "--protected-mode", "no", "--save", "", "--appendonly", "no", "--dir", "/tmp", \
     "--maxmemory", "1gb", "--maxmemory-policy", "volatile-lru"]
