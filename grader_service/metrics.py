"""Prometheus metrics (the standard client library), scraped at GET /metrics.

With several uvicorn workers, PROMETHEUS_MULTIPROC_DIR makes every worker write its samples there and
/metrics aggregate them (`python -m grader_service` sets it up when GRADER_WORKERS > 1).
"""

from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

_FAST = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
_MULTIPROC = "PROMETHEUS_MULTIPROC_DIR" in os.environ
_GAUGE = {"multiprocess_mode": "livesum"} if _MULTIPROC else {}

JUDGE_CALLS = Counter("grader_judge_calls_total", "Judge HTTP calls made", ["mode", "outcome"])
JUDGE_SECONDS = Histogram(
    "grader_judge_call_seconds", "Judge call latency (one HTTP exchange)", ["mode"], buckets=_FAST
)
JUDGE_ERRORS = Counter("grader_judge_errors_total", "Criteria that failed for good, by error type", ["type"])
JUDGE_RETRIES = Counter("grader_judge_retries_total", "Judge calls retried after a 429, 5xx, timeout or bad reply")
JUDGE_ADAPTED = Counter("grader_judge_adaptations_total", "Requests changed after the judge refused a parameter")
RATE_LIMITED = Counter("grader_judge_rate_limited_total", "429 answers from the judge")
JUDGE_IN_FLIGHT = Gauge("grader_judge_in_flight", "Judge calls in flight", **_GAUGE)
JUDGE_CAP = Gauge("grader_judge_concurrency_cap", "Current cap on judge calls in flight (adaptive)", **_GAUGE)
QUEUE_WAIT = Histogram("grader_judge_queue_wait_seconds", "Time a judge call waited for its slot", buckets=_FAST)
CACHE = Counter("grader_cache_lookups_total", "Judgement cache lookups", ["result"])
CACHE_ERRORS = Counter(
    "grader_cache_errors_total", "Cache or shared-limit operations that failed (served as a miss)", ["store", "op"]
)
DEGRADED = Gauge("grader_degraded", "1 while a shared component (cache, global limit) is unavailable", ["component"])
DEGRADED_SECONDS = Counter(
    "grader_degraded_seconds_total", "Time a shared component was unavailable, counted on recovery", ["component"]
)
REWARDS = Histogram(
    "grader_reward",
    "Rewards returned, by scheme",
    ["scheme"],
    buckets=(0, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 10, 15, 20, 25),
)
NULL_REWARDS = Counter("grader_null_rewards_total", "Items returned with a null reward, by error type", ["type"])
REQUEST_ITEMS = Histogram("grader_request_items", "Items per /v1/grade request", buckets=(1, 4, 16, 64, 256, 1024))
REQUEST_CRITERIA = Histogram(
    "grader_request_criteria", "Criteria per /v1/grade request", buckets=(1, 16, 64, 256, 1024, 4096, 16384)
)
CLIENT_REQUESTS = Counter(
    "grader_client_requests_total",
    "Requests by API key name (never the key) and outcome: admitted, or over which quota",
    ["client", "outcome"],
)
CLIENT_JUDGE_TOKENS = Counter("grader_client_judge_tokens_total", "Judge tokens spent for each API key", ["client"])
REQUESTS = Counter("grader_http_requests_total", "HTTP requests served", ["route", "status"])
REQUEST_SECONDS = Histogram("grader_http_request_seconds", "HTTP request latency", ["route"], buckets=_FAST)


def scrape() -> tuple[bytes, str]:
    """The exposition text for every metric (all workers' when multiprocess)."""
    if _MULTIPROC:
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
