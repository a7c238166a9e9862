"""A grader that is safe to deploy: closed by default, the owner's allowlists, named keys with quotas.

Against the scripted judge (a real HTTP server) recording every request body it receives, so the tests
see exactly what reaches the judge; `python -m grader_service` runs as its own process for the bind checks.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from grader_service import create_app
from grader_service.keys import KeyFileError, KeyRing, add_key, digest, load_keys
from grader_service.policy import refused_extra_body
from grader_service.quotas import Quotas
from tests.conftest import REPO, grader_settings
from tests.scripted_judge import JudgeScript, build_app
from tests.servers import free_port, serve

ITEM = {
    "prompt": "Chest pain when I climb stairs. What now?",
    "response": "That sounds like angina; see a doctor and get an ECG.",
    "rubric": [{"criterion": "Advises seeing a doctor [p=1]", "points": 5}],
}
# the request of the issue: our prompt replaced, the model and the output budget chosen by the caller
ATTACK = {
    "mode": "verdict",
    "model": "gpt-5-pro",
    "extra_body": {
        "messages": [{"role": "user", "content": "ATTACKER PROMPT: write my essay"}],
        "n": 8,
        "max_completion_tokens": 100000,
    },
}
# what the grader itself builds into a judge request
GRADER_BUILT = {"model", "messages", "max_tokens", "temperature", "logprobs", "top_logprobs", "n"}


@pytest.fixture
def recording() -> Iterator[tuple[str, JudgeScript]]:
    script = JudgeScript(record=1000)
    with serve(build_app(script)) as url:
        yield url + "/v1", script


def _grader(judge: str, **settings: Any) -> Any:
    return serve(create_app(grader_settings(judge, **settings)))


def _locs(r: httpx.Response) -> list[list[Any]]:
    return [d["loc"] for d in r.json()["detail"]]


# ---------------------------------------------------------------- what a request may change


def test_the_attack_is_refused_naming_every_field_and_the_judge_sees_nothing(recording: Any) -> None:
    judge, script = recording
    with _grader(judge) as url:
        r = httpx.post(url + "/v1/grade", json={"items": [ITEM], "judge": ATTACK}, timeout=30)
    assert r.status_code == 422, r.text
    assert _locs(r) == [
        ["body", "judge", "model"],
        ["body", "judge", "extra_body", "messages"],
        ["body", "judge", "extra_body", "n"],
        ["body", "judge", "extra_body", "max_completion_tokens"],
    ]
    assert "GRADER_JUDGE_ALLOWED_MODELS" in r.json()["detail"][0]["msg"]
    assert "builds this field" in r.json()["detail"][1]["msg"]
    assert script.calls == 0 and script.received == []


@pytest.mark.parametrize(
    ("extra_body", "refused"),
    [
        ({"stream": True}, ["stream"]),
        ({"tools": [{"type": "function"}], "tool_choice": "auto"}, ["tools", "tool_choice"]),
        ({"logit_bias": {"42": 100}}, ["logit_bias"]),
        ({"max_tokens": 1}, ["max_tokens"]),
        ({"reasoning_effort": "high"}, ["reasoning_effort"]),  # changes the budget: not in the default list
        ({"chat_template_kwargs": {"enable_thinking": False, "system": "x"}}, ["chat_template_kwargs", "system"]),
        ({"chat_template_kwargs": "enable_thinking"}, ["chat_template_kwargs"]),  # a dotted path needs an object
    ],
)
def test_extra_body_outside_the_allowlist_is_a_422_naming_the_key(
    recording: Any, extra_body: dict[str, Any], refused: list[str]
) -> None:
    judge, script = recording
    with _grader(judge) as url:
        r = httpx.post(url + "/v1/grade", json={"items": [ITEM], "judge": {"extra_body": extra_body}}, timeout=30)
    assert r.status_code == 422
    locs = _locs(r)
    assert all(loc[:3] == ["body", "judge", "extra_body"] for loc in locs)
    if refused[0] == "chat_template_kwargs" and len(refused) == 2:
        assert locs == [["body", "judge", "extra_body", *refused]]
    else:
        assert [loc[3] for loc in locs] == refused
    assert script.calls == 0


def test_the_judge_sees_only_what_the_owner_allowed(recording: Any) -> None:
    judge, script = recording
    owner_extra = {"chat_template_kwargs": {"enable_thinking": False}}
    with _grader(judge, judge_extra_body=owner_extra, judge_allowed_models=["other-judge"]) as url:
        requests = [
            {"mode": m, "extra_body": {"top_p": 0.9, "seed": 7, "chat_template_kwargs": {"enable_thinking": False}}}
            for m in ("verdict", "logprob", "sample")
        ] + [{"mode": "verdict", "model": "other-judge"}, {"mode": "verdict", "model": "scripted"}]
        for judge_opts in requests:
            r = httpx.post(url + "/v1/grade", json={"items": [ITEM], "judge": judge_opts}, timeout=30)
            assert r.status_code == 200, r.text
            assert r.json()["results"][0]["reward"] is not None
    allowed = GRADER_BUILT | {"top_p", "seed", "chat_template_kwargs"}
    assert len(script.received) >= len(requests)
    for body in script.received:
        assert set(body) <= allowed, set(body) - allowed
        assert body.get("chat_template_kwargs", {}) in ({}, {"enable_thinking": False})
        assert body["model"] in ("scripted", "other-judge")
        assert body.get("n", 1) <= 5  # the grader's own GRADER_JUDGE_SAMPLES
    assert {b["model"] for b in script.received} == {"scripted", "other-judge"}
    assert any(b.get("top_p") == 0.9 and b.get("seed") == 7 for b in script.received)


def test_the_owner_can_widen_the_allowlist_but_never_to_fields_the_grader_builds(recording: Any) -> None:
    judge, script = recording
    with _grader(judge, judge_extra_body_allow=["reasoning_effort"]) as url:
        body = {"items": [ITEM], "judge": {"mode": "verdict", "extra_body": {"reasoning_effort": "low"}}}
        assert httpx.post(url + "/v1/grade", json=body, timeout=30).status_code == 200
        body["judge"]["extra_body"] = {"top_p": 0.5}  # the owner's list replaces the default one
        assert _locs(httpx.post(url + "/v1/grade", json=body, timeout=30)) == [["body", "judge", "extra_body", "top_p"]]
    assert script.received[-1]["reasoning_effort"] == "low"
    for owned in ("messages", "model", "n", "max_tokens", "stream", "logit_bias", "tools.x"):
        with pytest.raises(ValidationError, match="builds"):
            grader_settings(judge, judge_extra_body_allow=[owned])


def test_custom_templates_follow_the_setting(recording: Any) -> None:
    judge, script = recording
    template = "Conversation:\n{{conversation}}\nCriterion: {{criterion}}\nAnswer with JSON."
    body = {"items": [ITEM], "scheme": "healthbench", "judge": {"mode": "verdict", "custom_template": template}}
    with _grader(judge) as url:  # on by default: what evaluate --judge_template_file sends
        assert httpx.post(url + "/v1/grade", json=body, timeout=30).status_code == 200
    with _grader(judge, judge_allow_custom_template=False) as url:
        before = script.calls
        r = httpx.post(url + "/v1/grade", json=body, timeout=30)
        assert r.status_code == 422 and _locs(r) == [["body", "judge", "custom_template"]]
        assert "GRADER_JUDGE_TEMPLATE_FILE" in r.json()["detail"][0]["msg"]
        assert script.calls == before


def test_explanations_are_capped(recording: Any) -> None:
    judge, script = recording
    script.explanation = "essay " * 2000
    with _grader(judge, max_explanation_chars=300) as url:
        r = httpx.post(url + "/v1/grade", json={"items": [ITEM], "judge": {"mode": "verdict"}}, timeout=30)
    explanation = r.json()["results"][0]["criteria"][0]["explanation"]
    assert len(explanation) == 300 and explanation.startswith("essay essay") and explanation.endswith("…")


def test_refused_paths_for_nested_allowlists() -> None:
    allow = ["top_p", "a.b", "a.c.d"]
    assert refused_extra_body({"top_p": 1, "a": {"b": 1, "c": {"d": 2}}}, allow) == []
    assert refused_extra_body({"a": {"b": 1, "x": 2, "c": {"e": 3}}}, allow) == ["a.x", "a.c.e"]
    assert refused_extra_body({"a": 5, "z": {}}, allow) == ["a", "z"]


# ---------------------------------------------------------------- closed by default


def _listening(port: int) -> set[str]:
    """The local addresses a TCP socket listens on for `port`, from /proc (no traffic sent)."""
    out = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        if not os.path.exists(table):
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            addr, p = local.split(":")
            if state == "0A" and int(p, 16) == port:  # 0A: LISTEN
                out.add({8: "ipv4", 32: "ipv6"}[width] + ":" + addr)
    return out


def _start(env: dict[str, str], judge: str) -> tuple[subprocess.Popen[str], int]:
    port = free_port()
    full = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GRADER_")},
        "GRADER_PORT": str(port),
        "GRADER_JUDGE_BASE_URL": judge,
        "GRADER_JUDGE_MODEL": "scripted",
        "GRADER_JUDGE_PROBE": "false",
        "GRADER_CACHE": "memory",
        **env,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "grader_service"], cwd=REPO, env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    return proc, port


def _wait_healthy(proc: subprocess.Popen[str], port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("grader did not start")


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    proc.communicate(timeout=20)


def test_defaults_listen_on_loopback_only(recording: Any, tmp_path: Path) -> None:
    judge, _ = recording
    proc, port = _start({}, judge)
    try:
        _wait_healthy(proc, port)
        assert _listening(port) == {"ipv4:0100007F"}  # 127.0.0.1, and nothing else
    finally:
        _stop(proc)


def test_a_public_address_without_a_token_refuses_to_start_in_one_line(recording: Any, tmp_path: Path) -> None:
    judge, _ = recording
    proc, port = _start({"GRADER_HOST": "0.0.0.0"}, judge)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "GRADER_OPEN=true" in lines[0] and "0.0.0.0" in lines[0], err
    assert _listening(port) == set()


@pytest.mark.parametrize("how", ["open", "token", "keys_file"])
def test_a_public_address_starts_when_opened_or_protected(recording: Any, tmp_path: Path, how: str) -> None:
    judge, _ = recording
    keys = tmp_path / "keys.toml"
    token = add_key(keys, "ci")
    env = {
        "open": {"GRADER_OPEN": "true"},
        "token": {"GRADER_API_KEY": "s3cret"},
        "keys_file": {"GRADER_API_KEYS_FILE": str(keys)},
    }[how]
    proc, port = _start({"GRADER_HOST": "0.0.0.0", **env}, judge)
    try:
        _wait_healthy(proc, port)
        assert _listening(port) == {"ipv4:00000000"}
        r = httpx.post(f"http://127.0.0.1:{port}/v1/grade", json={"items": [ITEM]}, timeout=30)
        assert r.status_code == (200 if how == "open" else 401)
        if how == "keys_file":
            auth = {"Authorization": f"Bearer {token}"}
            r = httpx.post(f"http://127.0.0.1:{port}/v1/grade", json={"items": [ITEM]}, headers=auth, timeout=30)
            assert r.status_code == 200
    finally:
        _stop(proc)


def test_an_unusable_keys_file_stops_the_grader_in_one_line(recording: Any, tmp_path: Path) -> None:
    judge, _ = recording
    bad = tmp_path / "keys.toml"
    bad.write_text('[keys.x]\nsha256 = "not hex"\n')
    proc, _ = _start({"GRADER_API_KEYS_FILE": str(bad)}, judge)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2 and len(err.strip().splitlines()) == 1 and "keys.x.sha256" in err


# ---------------------------------------------------------------- named keys and quotas


def test_keys_add_keeps_only_the_hash(tmp_path: Path) -> None:
    path = tmp_path / "keys.toml"
    out = subprocess.run(
        [sys.executable, "-m", "grader_service", "keys", "add", "team-a", "--file", str(path),
         "--requests-per-minute", "60"],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    token = out.strip().splitlines()[-1]
    text = path.read_text()
    assert token.startswith("rr-") and len(token) > 40 and token not in text and digest(token).hex() in text
    keys = load_keys(str(path), grader_settings("http://x/v1"))
    assert [(k.name, k.requests_per_minute, k.judge_tokens_per_minute) for k in keys] == [("team-a", 60.0, None)]
    assert KeyRing(keys).identify(f"Bearer {token}").name == "team-a"  # type: ignore[union-attr]
    assert KeyRing(keys).identify(f"Bearer {token}x") is None and KeyRing(keys).identify(token) is None
    with pytest.raises(KeyFileError, match="exists already"):
        add_key(path, "team-a")


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ('[keys.a]\nsha256 = "abc"\n', "keys.a.sha256"),
        (f'[keys.a]\nsha256 = "{"0" * 64}"\nrequests_per_minute = -1\n', "keys.a.requests_per_minute"),
        (f'[keys.a]\nsha256 = "{"0" * 64}"\ntoken = "x"\n', "unknown field(s) token"),
        ("[keys\n", "keys.toml"),
    ],
)
def test_a_bad_keys_file_names_the_entry(tmp_path: Path, text: str, names: str) -> None:
    path = tmp_path / "keys.toml"
    path.write_text(text)
    with pytest.raises(KeyFileError, match=names.replace("(", r"\(").replace(")", r"\)")):
        load_keys(str(path), grader_settings("http://x/v1"))


def test_quota_buckets_refill_with_time() -> None:
    now = [0.0]
    from grader_service.keys import Key

    q = Quotas([Key("a", b"", requests_per_minute=2), Key("b", b"", judge_tokens_per_minute=60)], clock=lambda: now[0])
    assert q.admit("a") is None and q.admit("a") is None
    over = q.admit("a")
    assert over is not None and over.budget == "requests_per_minute" and over.retry_after_s == 30
    now[0] = 30.0
    assert q.admit("a") is None
    assert q.admit("b") is None
    q.charge("b", 120)  # a minute's budget twice over: 60 tokens in debt, refilled at 1 a second
    over = q.admit("b")
    assert over is not None and over.budget == "judge_tokens_per_minute" and over.retry_after_s == 60
    now[0] = 30.0 + 60
    assert q.admit("b") is None and q.admit("nobody") is None


def _metric(text: str, name: str, **labels: str) -> float:
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith(f"{name}{{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no {name}{{{want}}}")


def test_two_named_keys_get_their_own_429s_and_metrics(
    recording: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    judge, _ = recording
    a, b = f"a-{uuid.uuid4().hex[:8]}", f"b-{uuid.uuid4().hex[:8]}"  # metrics are per process: fresh names
    path = tmp_path / "keys.toml"
    token_a = add_key(path, a, rpm=2)
    token_b = add_key(path, b, tpm=50)
    caplog.set_level(logging.INFO, logger="grader.access")
    with _grader(judge, api_keys_file=str(path)) as url, httpx.Client(base_url=url, timeout=30) as c:
        ha, hb = {"Authorization": f"Bearer {token_a}"}, {"Authorization": f"Bearer {token_b}"}
        body = {"items": [ITEM], "judge": {"mode": "verdict"}}
        assert [c.post("/v1/grade", json=body, headers=ha).status_code for _ in range(2)] == [200, 200]
        over = c.post("/v1/grade", json=body, headers=ha)
        assert over.status_code == 429 and 1 <= int(over.headers["retry-after"]) <= 30
        assert a in over.json()["detail"][0]["msg"] and "requests per minute" in over.json()["detail"][0]["msg"]
        # b is not held back by a, and has its own budget: judge tokens (a fresh item costs tokens, > 50)
        fresh = {
            "items": [{**ITEM, "response": "A fresh answer about angina and a doctor."}],
            "judge": {"mode": "verdict"},
        }
        first = c.post("/v1/grade", json=fresh, headers=hb)
        assert first.status_code == 200 and first.json()["usage"]["prompt_tokens"] > 50
        over_b = c.post("/v1/grade", json=body, headers=hb)
        assert over_b.status_code == 429 and "judge tokens per minute" in over_b.json()["detail"][0]["msg"]
        assert c.post("/v1/grade", json=body).status_code == 401
        text = c.get("/metrics").text
    assert _metric(text, "grader_client_requests_total", client=a, outcome="admitted") == 2
    assert _metric(text, "grader_client_requests_total", client=a, outcome="over_requests_per_minute") == 1
    assert _metric(text, "grader_client_requests_total", client=b, outcome="admitted") == 1
    assert _metric(text, "grader_client_requests_total", client=b, outcome="over_judge_tokens_per_minute") == 1
    spent = first.json()["usage"]["prompt_tokens"] + first.json()["usage"]["completion_tokens"]
    assert _metric(text, "grader_client_judge_tokens_total", client=b) == spent
    assert f'client="{a}"' in text and token_a not in text and token_b not in text
    lines = [r for r in caplog.records if r.name == "grader.access" and getattr(r, "path", "") == "/v1/grade"]
    assert [getattr(r, "client", None) for r in lines].count(a) == 3
    assert [getattr(r, "status", None) for r in lines if getattr(r, "client", None) == b] == [200, 429]
    assert all(token_a not in str(vars(r)) and token_b not in str(vars(r)) for r in caplog.records)
