# The grader service: light (no torch, no trainer code). Talks to any OpenAI-compatible judge.
# BASE_IMAGE: any Debian/Ubuntu image with Python >= 3.11 and venv; docker/build-local-base.sh makes one
# from Debian packages alone for hosts that cannot pull public images.
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}

ENV VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python3 -m venv "$VIRTUAL_ENV" && useradd --create-home --uid 10001 grader \
 && mkdir -p /cache && chown 10001:10001 /cache
WORKDIR /app
COPY docker/wheels/ /wheels/
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY grader_service ./grader_service
# hadolint ignore=DL3013
RUN pip install --no-cache-dir --find-links /wheels ".[grader]" && rm -rf /wheels

USER 10001
ENV GRADER_HOST=0.0.0.0 GRADER_PORT=8080 GRADER_CACHE_PATH=/cache/judgements.sqlite
VOLUME ["/cache"]
EXPOSE 8080
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=12 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2)"]
CMD ["python", "-m", "grader_service"]
