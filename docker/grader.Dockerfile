# The grader service: light (no torch). Talks to any OpenAI-compatible judge.
FROM python:3.11-slim

RUN useradd --create-home --uid 10001 grader
WORKDIR /app
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY grader_service ./grader_service
COPY trainer ./trainer
# hadolint ignore=DL3013
RUN pip install --no-cache-dir ".[grader]"

USER 10001
ENV GRADER_HOST=0.0.0.0 GRADER_PORT=8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz')"]
CMD ["python", "-m", "grader_service"]
