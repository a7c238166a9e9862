# The grader replicas' load balancer: HAProxy from Debian's packages (no image pull needed beyond the base).
# BASE_IMAGE: any Debian image; docker/build-local-base.sh makes one for hosts that cannot pull public images.
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends haproxy \
 && rm -rf /var/lib/apt/lists/* && useradd --system --no-create-home --uid 10002 lb
COPY docker/haproxy.cfg /etc/haproxy/haproxy.cfg
RUN haproxy -c -f /etc/haproxy/haproxy.cfg
USER 10002
EXPOSE 8080
HEALTHCHECK --interval=3s --timeout=3s --start-period=5s --retries=20 \
  CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/lb/healthz', timeout=2)"]
CMD ["haproxy", "-W", "-db", "-f", "/etc/haproxy/haproxy.cfg"]
