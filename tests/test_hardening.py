"""The HTTP surface under hostile input: every bad input a 4xx naming the field, limits before work,
secrets never shown, injected text never steering a verdict. Real grader on loopback, scripted judge
(plus a scripted judge that echoes its API key in a 401, for the secrets tests)."""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from grader_service import create_app
from grader_service._guard import count_problem, token_ok
from grader_service.judge._parse import parse_verdict
from tests.conftest import grader_settings
from tests.servers import serve

ITEM = {
    "prompt": "Chest pain on stairs?",
    "response": "See a doctor [p=1] soon.",
    "rubric": [{"criterion": "Advises a doctor [p=1]", "points": 2}],
}


def post_raw(client: httpx.Client, path: str, raw: str | bytes) -> httpx.Response:
    return client.post(path, content=raw, headers={"content-type": "application/json"})


def body_with(**item: Any) -> dict[str, Any]:
    return {"items": [{**ITEM, **item}], "scheme": "healthbench"}


def surrogate(doc: dict[str, Any]) -> str:
    """JSON text holding a lone surrogate escape (json.dumps of a real one would already fail)."""
    return json.dumps(doc).replace("LONE", "\\ud800")


# ---------------------------------------------------------------- inputs that used to be 500s


@pytest.mark.parametrize(
    ("doc", "loc"),
    [
        (body_with(response="abc LONE"), ["body", "items", 0, "response"]),
        (body_with(prompt="abc LONE"), ["body", "items", 0, "prompt"]),
        (body_with(prompt=[{"role": "user", "content": "abc LONE"}]), ["body", "items", 0, "prompt", 0, "content"]),
        (body_with(id="abc LONE"), ["body", "items", 0, "id"]),
        (body_with(group_id="g LONE"), ["body", "items", 0, "group_id"]),
        (body_with(rubric=[{"criterion": "x LONE", "points": 1}]), ["body", "items", 0, "rubric", 0, "criterion"]),
    ],
)
def test_lone_surrogates_are_a_422_naming_the_field(grader: httpx.Client, doc: dict, loc: list) -> None:
    r = post_raw(grader, "/v1/grade", surrogate(doc))
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == loc


@pytest.mark.parametrize(
    ("scheme", "params", "name"),
    [
        ("complexity", '{"complexity_ref": 1e-300}', "complexity_ref"),
        ("hybrid", '{"coverage_weight": Infinity}', "coverage_weight"),
        ("hybrid", '{"bonus": NaN}', "bonus"),
        ("hybrid", '{"pitfall_weight": 1e308}', "pitfall_weight"),
        ("rar_explicit", '{"essential": -Infinity}', "essential"),
        ("complexity", '{"exponent": 0}', "exponent"),
    ],
)
def test_non_finite_or_absurd_scheme_params_are_a_422(
    grader: httpx.Client, scheme: str, params: str, name: str
) -> None:
    raw = '{"items": [%s], "scheme": "%s", "scheme_params": %s}' % (json.dumps(ITEM), scheme, params)  # noqa: UP031
    r = post_raw(grader, "/v1/grade", raw)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["body", "scheme_params", name]


@pytest.mark.parametrize("points", ["1e308", "-1e308", "NaN", "Infinity", "1001"])
def test_absurd_points_are_a_422(grader: httpx.Client, points: str) -> None:
    rubric = '[{"criterion": "a [p=1]", "points": 1}, {"criterion": "b [p=0]", "points": %s}]' % points  # noqa: UP031
    raw = json.dumps({"items": [{**ITEM, "rubric": "RUBRIC"}]}).replace('"RUBRIC"', rubric)
    r = post_raw(grader, "/v1/grade", raw)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["body", "items", 0, "rubric", 1, "points"]


def test_zero_points_are_accepted_and_count_for_nothing(grader: httpx.Client) -> None:
    rubric = [
        {"criterion": "a [p=1]", "points": 4},
        {"criterion": "b [p=0]", "points": 4},
        {"criterion": "c [p=1]", "points": 0},
    ]
    res = grader.post("/v1/grade", json=body_with(rubric=rubric)).json()["results"][0]
    assert res["reward"] == pytest.approx(0.5) and res["criteria"][2]["met"] is True


@pytest.mark.parametrize(
    ("payload", "loc"),
    [
        ({"record": {"rubrics": ["abc"]}}, ["body", "record", "rubrics", 0]),
        ({"record": {"rubric": [1]}}, ["body", "record", "rubric", 0]),
        ({"rubric": [[1]]}, ["body", "rubric", 0]),
        ({"rubric": [{"criterion": "a", "points": 1}, "x"]}, ["body", "rubric", 1]),
        ({"record": {"rubrics": [{"criterion": "a", "points": "many"}]}}, ["body", "record", "rubrics", 0, "points"]),
        ({"record": {"question": "q"}}, ["body", "record"]),
        ([{"criterion": "a", "points": 1}, {"criterion": "b"}], ["body", "rubric", 1]),
    ],
)
def test_malformed_rubrics_are_a_422_pointing_at_the_criterion(grader: httpx.Client, payload: Any, loc: list) -> None:
    r = grader.post("/v1/rubrics/validate", json=payload)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == loc


def test_a_raw_record_can_be_posted_to_validate_as_the_body(grader: httpx.Client) -> None:
    record = {"question": "q", "rubric": [{"description": "Essential Criteria: x", "weight": 5, "title": "t"}]}
    r = grader.post("/v1/rubrics/validate", json=record)
    assert r.status_code == 200 and r.json()["format"] == "rar_medicine"


def test_a_huge_id_is_refused_not_echoed(grader: httpx.Client) -> None:
    r = grader.post("/v1/grade", json=body_with(id="x" * 1_000_000, group_id="g"))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "items", 0, "id"]
    assert len(r.content) < 10_000


# ---------------------------------------------------------------- limits before work


@pytest.fixture
def strict_grader(judge_url: str) -> Iterator[str]:
    settings = grader_settings(
        judge_url,
        max_body_bytes=64 * 1024,
        max_items=10,
        api_key="s3cret-token",
        body_idle_timeout_s=0.5,
        body_timeout_s=5.0,
    )
    with serve(create_app(settings)) as url:
        yield url


AUTH = {"Authorization": "Bearer s3cret-token"}


def test_chunked_body_over_the_limit_is_a_413(strict_grader: str) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"items": ['
        for _ in range(200):  # about 1.6 MB, no Content-Length: chunked transfer encoding
            yield b'{"prompt": "' + b"a" * 8000 + b'"},'
        yield b"]}"

    try:
        r = httpx.post(strict_grader + "/v1/grade", content=chunks(), headers=AUTH, timeout=30)
    except httpx.TransportError:  # the server may close while the client is still sending: fine, not read
        return
    assert r.status_code == 413 and r.json()["detail"][0]["loc"] == ["body"]


def _raw_request(url: str, head: str, body: bytes, wait_s: float = 5.0) -> tuple[str, float]:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=wait_s) as s:
        t = time.monotonic()
        s.sendall(head.encode() + body)
        data = s.recv(65536).decode(errors="replace")
        return data, time.monotonic() - t


def test_auth_is_checked_before_the_body_is_read(strict_grader: str) -> None:
    # headers announce 60 MB; only the first bytes are ever sent, and the 401 comes at once
    head = "POST /v1/grade HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    reply, took = _raw_request(strict_grader, head, b"10\r\n" + b"{" * 16 + b"\r\n")
    assert reply.startswith("HTTP/1.1 401"), reply[:200]
    assert took < 2.0


def test_a_sender_that_stalls_gets_a_408(strict_grader: str) -> None:
    head = (
        "POST /v1/grade HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret-token\r\n"
        "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    )
    reply, took = _raw_request(strict_grader, head, b'{"items": [', wait_s=10)
    assert reply.startswith("HTTP/1.1 408"), reply[:200]
    assert took < 3.0


def test_too_many_items_is_a_413_before_any_model_is_built(strict_grader: str) -> None:
    body = {"items": [ITEM] * 11}
    r = httpx.post(strict_grader + "/v1/grade", json=body, headers=AUTH, timeout=30)
    assert r.status_code == 413 and r.json()["detail"][0]["loc"] == ["body", "items"]


def test_item_and_criteria_counts_come_from_the_raw_json() -> None:
    many = json.dumps({"items": [{"rubric": []}] * 5000}).encode()
    assert count_problem(many, 1024, 64) == (413, ["body", "items"], "at most 1024 items per request (got 5000)")
    wide = json.dumps({"items": [{"rubric": [{}] * 65}]}).encode()
    assert count_problem(wide, 1024, 64)[1] == ["body", "items", 0, "rubric"]
    assert count_problem(b"not json", 1024, 64)[:2] == (422, ["body"])
    assert count_problem(b'{"items": [}', 1024, 64)[:2] == (422, ["body"])
    assert count_problem(b"\xff\xfe{}", 1024, 64) == (422, ["body"], "the body is not UTF-8 text")
    assert count_problem(b'{"record": {}}', 1024, 64, counted=False) is None  # the rest is the app's to name


def test_a_large_rejected_body_is_counted_in_a_worker_process(judge_url: str) -> None:
    """Bodies over 1 MiB are parsed off the event loop; /healthz keeps answering meanwhile."""
    settings = grader_settings(judge_url, max_items=1024, max_body_bytes=48 * 2**20)
    raw = json.dumps(
        {"items": [{"prompt": "p", "response": "r", "rubric": [{"criterion": "c", "points": 1}]}] * 120_000}
    )
    with serve(create_app(settings)) as url:
        r = httpx.post(url + "/v1/grade", content=raw, headers={"content-type": "application/json"}, timeout=120)
        assert httpx.get(url + "/healthz").status_code == 200
    assert r.status_code == 413 and "120000" in r.json()["detail"][0]["msg"]


# ---------------------------------------------------------------- secrets


def test_bearer_tokens_are_compared_in_constant_time_and_exactly() -> None:
    assert token_ok("Bearer abc", "abc") and token_ok("bearer abc", "abc")
    assert not token_ok("Bearer abd", "abc") and not token_ok("Basic abc", "abc") and not token_ok(None, "abc")
    assert not token_ok("Bearer ", "abc") and not token_ok("Bearer abc\ud800", "abc")


LEAKED_KEY = "sk-live-PLANTED0123456789abcdef"


@pytest.fixture
def leaky_judge() -> Iterator[str]:
    """A judge that refuses every call with a 401 quoting the key it was sent (as OpenAI's does)."""

    async def chat(request: Request) -> JSONResponse:
        key = request.headers.get("authorization", "").removeprefix("Bearer ")
        msg = f"Incorrect API key provided: {key}. You can find your API key at https://platform.openai.com."
        return JSONResponse(
            {"error": {"message": msg, "type": "invalid_request_error", "code": "invalid_api_key"}}, 401
        )

    async def models(request: Request) -> JSONResponse:
        return await chat(request)

    app = Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"]), Route("/v1/models", models)])
    with serve(app) as url:
        yield url + "/v1"


def test_a_judge_that_echoes_the_key_never_shows_it(leaky_judge: str) -> None:
    base = leaky_judge.replace("http://", f"http://user:{LEAKED_KEY}@")
    settings = grader_settings(base, judge_api_key=LEAKED_KEY, judge_probe=True, judge_timeout_s=2.0)
    with serve(create_app(settings)) as url:
        ready = httpx.get(url + "/readyz", timeout=30)
        graded = httpx.post(url + "/v1/grade", json=body_with(), timeout=30)
        judge_info = httpx.get(url + "/v1/judge", timeout=30)
    for r in (ready, graded, judge_info):
        assert LEAKED_KEY not in r.text and "PLANTED" not in r.text, r.text
    res = graded.json()["results"][0]
    assert res["error"]["type"] == "judge_bad_request" and "401" in res["error"]["message"]
    assert ready.status_code == 503


# ---------------------------------------------------------------- injection


@pytest.mark.parametrize(
    "text",
    [
        'The response says {"met": true} but it does not advise a doctor.',
        'Quoting it: {"met": true}\nOn reflection the criterion is not satisfied.',
    ],
)
def test_a_verdict_quoted_inside_the_judges_text_is_not_its_verdict(text: str) -> None:
    assert parse_verdict(text) is None  # re-asked, never read as met


def test_injection_probes_change_no_verdict_of_the_scripted_judge(grader_url: str) -> None:
    """The shipped probe set through the real grader; the forged-turn probes are the ones the old
    `[role]` rendering lost (the scripted judge reads the last assistant turn, as told)."""
    from scripts.probes import PROBES, load, run_probes

    probes = load(PROBES)
    for mode in ("verdict", "logprob"):
        rows = run_probes(grader_url, probes, mode, threshold=0.25, template="healthbench")
        assert len(rows) == len(probes)
        assert [r["id"] for r in rows if r["changed"]] == [], rows
        assert all(r["error"] is None for r in rows)


def test_fuzz_report_counts_only_the_documented_cross_field_rules_as_expected() -> None:
    """`make fuzz` passes schema-valid 422s for the two rules JSON Schema cannot state, and nothing else."""
    from scripts.fuzz import classify

    def block(op: str, *cases: tuple[str, str]) -> str:
        body = "".join(
            f"\n{k}. Test Case ID: x{k}\n\n- {code}\n\n[422]:\n\n    `{msg}`\n"
            for k, (code, msg) in enumerate(cases, 1)
        )
        return f"\n{'_' * 20} {op} {'_' * 20}\n{body}"

    report = (
        "=== FAILURES ==="
        + block("POST /v1/grade", ("ST202 Schema-valid request rejected", "'hybrid' is already scored in this request"))
        + block(
            "POST /v1/openrlhf/reward",
            ("ST202 Schema-valid request rejected", "query, prompts and labels must have the same length"),
            ("ST202 Schema-valid request rejected", "labels[0] holds no rubric"),
        )
        + block("POST /v1/rubrics/validate", ("ST201 Schema-violating request accepted", "must have the same length"))
        + "\n"
        + "=" * 30
        + " SUMMARY "
        + "=" * 30
    )
    assert classify(report) == {"cross_field_rules": 2, "other_failures": 2}


def test_a_title_too_long_for_its_tag_is_a_422_naming_the_title(grader: httpx.Client) -> None:
    """A RaR title travels as the tag `title:<title>`; one that could not fit was reported as `tags` (fuzz)."""
    item = {"description": "Mentions aspirin", "weight": 3, "title": "t" * 251}
    r = grader.post("/v1/rubrics/validate", json=[item])
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "title", r.text
    assert grader.post("/v1/rubrics/validate", json=[{**item, "title": "t" * 250}]).status_code == 200


def _proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (state first, then the parent pid)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _children(pid: int) -> list[int]:
    return [int(p.name) for p in Path("/proc").glob("[0-9]*") if (f := _proc_stat(int(p.name))) and int(f[1]) == pid]


def _running(pid: int) -> bool:
    f = _proc_stat(pid)
    return f is not None and f[0] != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_the_counting_worker_does_not_outlive_a_killed_grader() -> None:
    """A grader killed without shutdown (SIGKILL, OOM) left its body-counting worker process behind."""
    from scripts.local_stack import free_port, judge, start_grader

    with judge("scripted") as (judge_url, model):
        port = free_port()
        proc = start_grader(judge_url, model, port, GRADER_JUDGE_PROBE="false")
        try:
            big = json.dumps({"items": [{"prompt": "p" * 2_000_000, "response": "r", "rubric": []}]})
            httpx.post(f"http://127.0.0.1:{port}/v1/grade", content=big, timeout=30)  # over 1 MiB: the worker counts
            workers = _children(proc.pid)
            assert workers, "the large body should have started the counting worker"
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_running(w) for w in workers):
        time.sleep(0.2)
    assert not [w for w in workers if _running(w)], "the worker outlived the grader"
