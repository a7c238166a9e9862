"""Conformance matrix: each judge server family × judge mode → the correct reward, or a typed error
whose message names the setting to change. Never a wrong number, never a 500.

The servers are imitations (tests/judges/), each following one product's documented wire behaviour;
the grader runs for real on loopback. The rubric's verdict probabilities are fixed by ``[p=...]``:

    A  +5  p = 1        B  +3  p = 0        C  −2  p = 0.4 (pitfall)        D  +2  p = 0.8

so a hard verdict (greedy) gives (5 + 2) / 10 = 0.70 and a soft one (logprobs, or 5 samples of a
low-discrepancy sampler) gives (5 − 0.8 + 1.6) / 10 = 0.58.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from grader_service import create_app
from tests.conftest import grader_settings
from tests.judges._engine import ImitationServer
from tests.judges.broken import BrokenServer
from tests.judges.groq import GroqServer
from tests.judges.llamacpp import LlamaCppServer
from tests.judges.openai import OpenAIChatServer, OpenAIReasoningServer
from tests.judges.sglang import SGLangServer
from tests.judges.vllm import VLLMServer
from tests.servers import serve

RUBRIC = [
    {"criterion": "Essential Criteria: Advises an ECG [p=1]", "points": 5},
    {"criterion": "Important Criteria: Mentions aspirin [p=0]", "points": 3},
    {"criterion": "Pitfall Criteria: Suggests waiting it out [p=0.4]", "points": -2},
    {"criterion": "Optional Criteria: Names angina [p=0.8]", "points": 2},
]
HARD, SOFT = 0.70, 0.58
ITEM = {
    "id": "q1",
    "prompt": "Chest pain when I climb stairs. What now?",
    "response": "That sounds like angina; see a doctor and get an ECG.",
    "rubric": RUBRIC,
}
MODES = ("verdict", "logprob", "sample")


@dataclass
class Case:
    id: str
    server: Callable[[], ImitationServer]
    family: str  # what the README's judge table says to set
    expect: dict[str, float | tuple[str, str]]  # mode -> reward, or (error type, text the message must hold)
    settings: dict[str, Any] = field(default_factory=dict)
    extra_body: dict[str, Any] | None = None
    auto_too: bool = True  # `auto` must get the same outcome by detecting and adapting


ALL_EXACT = {"verdict": HARD, "logprob": SOFT, "sample": SOFT}
NO_LOGPROBS = {"verdict": HARD, "logprob": HARD, "sample": SOFT}  # logprob mode degrades to hard verdicts

CASES = [
    Case("vllm-qwen3", lambda: VLLMServer("Qwen/Qwen3-8B", "qwen3"), "vllm", ALL_EXACT),
    Case("vllm-qwen3-parser", lambda: VLLMServer("Qwen/Qwen3-8B", "qwen3", reasoning_parser=True), "vllm", ALL_EXACT),
    Case(
        "vllm-qwen3-thinking-on",
        lambda: VLLMServer("Qwen/Qwen3-8B", "qwen3"),
        "vllm",
        ALL_EXACT,
        extra_body={"chat_template_kwargs": {"enable_thinking": True}},
    ),
    Case("sglang-qwen3", lambda: SGLangServer("Qwen/Qwen3-8B", "qwen3", reasoning_parser=True), "sglang", ALL_EXACT),
    Case(
        "sglang-qwen3-thinking-on",
        lambda: SGLangServer("Qwen/Qwen3-8B", "qwen3", reasoning_parser=True),
        "sglang",
        ALL_EXACT,
        extra_body={"chat_template_kwargs": {"enable_thinking": True}},
    ),
    Case("llamacpp", lambda: LlamaCppServer("judge", "instruct"), "llamacpp", ALL_EXACT),
    Case("openai-chat", lambda: OpenAIChatServer("gpt-4.1-mini"), "openai", ALL_EXACT),
    Case("openai-reasoning", lambda: OpenAIReasoningServer("o4-mini"), "openai-reasoning", NO_LOGPROBS),
    Case("gpt-oss-vllm", lambda: VLLMServer("openai/gpt-oss-20b", "harmony"), "gpt-oss", ALL_EXACT),
    Case("gpt-oss-groq", lambda: GroqServer("openai/gpt-oss-20b"), "gpt-oss-hosted", NO_LOGPROBS),
    Case(
        "deepseek-r1-vllm",
        lambda: VLLMServer("deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", "r1"),
        "deepseek-r1",
        ALL_EXACT,
    ),
    Case(
        "deepseek-r1-vllm-parser",
        lambda: VLLMServer("deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", "r1", reasoning_parser=True),
        "deepseek-r1",
        ALL_EXACT,
    ),
    # an R1 distill served under an alias: its name says nothing, so the grader cannot know it thinks
    Case(
        "r1-behind-an-alias",
        lambda: VLLMServer("judge", "r1"),
        "auto",
        {"verdict": HARD, "logprob": ("judge_low_answer_mass", "GRADER_JUDGE_FAMILY"), "sample": SOFT},
        auto_too=False,
    ),
    # budgets too small for the reasoning: a typed truncation naming the budget, never a verdict read from it
    Case(
        "gpt-oss-budget-too-small",
        lambda: VLLMServer("openai/gpt-oss-20b", "harmony"),
        "gpt-oss",
        {m: ("judge_truncated", "GRADER_JUDGE_REASONING_BUDGET") for m in MODES},
        settings={"judge_max_tokens": 8, "judge_reasoning_budget": 16},
    ),
    Case(
        "qwen3-thinking-cut-off",
        lambda: VLLMServer("Qwen/Qwen3-8B", "qwen3"),
        "vllm",
        {m: ("judge_truncated", "GRADER_JUDGE_REASONING_BUDGET") for m in MODES},
        settings={"judge_max_tokens": 24, "judge_reasoning_budget": 16},
        extra_body={"chat_template_kwargs": {"enable_thinking": True}},
    ),
]


@pytest.fixture
def grader_for() -> Iterator[Callable[..., tuple[httpx.Client, ImitationServer]]]:
    stack: list[Any] = []

    def start(server: ImitationServer, **settings: Any) -> tuple[httpx.Client, ImitationServer]:
        judge_cm = serve(server.app())
        judge_url = judge_cm.__enter__()
        stack.append(judge_cm)
        base = {"judge_model": server.model, "judge_timeout_s": 10.0, **settings}
        grader_cm = serve(create_app(grader_settings(judge_url + "/v1", **base)))
        url = grader_cm.__enter__()
        stack.append(grader_cm)
        client = httpx.Client(base_url=url, timeout=60)
        stack.append(client)
        return client, server

    yield start
    for cm in reversed(stack):
        if isinstance(cm, httpx.Client):
            cm.close()
        else:
            cm.__exit__(None, None, None)


def _grade(client: httpx.Client, mode: str, extra_body: dict[str, Any] | None) -> dict[str, Any]:
    judge: dict[str, Any] = {"mode": mode, "samples": 5}
    if extra_body is not None:
        judge["extra_body"] = extra_body
    r = client.post("/v1/grade", json={"items": [ITEM], "scheme": "healthbench", "judge": judge})
    assert r.status_code == 200, r.text
    return r.json()["results"][0]


def _check(res: dict[str, Any], expected: float | tuple[str, str]) -> None:
    if isinstance(expected, float):
        assert res["error"] is None, res["error"]
        assert res["reward"] == pytest.approx(expected), [c["p_met"] for c in res["criteria"]]
    else:
        etype, names = expected
        assert res["reward"] is None, f"expected {etype}, got reward {res['reward']}"
        assert res["error"]["type"] == etype, res["error"]
        assert names in res["error"]["message"], res["error"]["message"]


MATRIX = [
    pytest.param(case, family, mode, id=f"{case.id}-{family}-{mode}")
    for case in CASES
    for family in ([case.family, "auto"] if case.auto_too and case.family != "auto" else [case.family])
    for mode in MODES
]


@pytest.mark.parametrize(("case", "family", "mode"), MATRIX)
def test_family_mode_matrix(grader_for: Any, case: Case, family: str, mode: str) -> None:
    client, _ = grader_for(case.server(), judge_family=family, **case.settings)
    _check(_grade(client, mode, case.extra_body), case.expect[mode])


def test_auto_detects_each_family_from_the_server_and_model() -> None:
    from grader_service.judge.families import detect_family

    assert detect_family("Qwen/Qwen3-8B", "http://judge:8000/v1", "vllm").name == "vllm"
    assert detect_family("Qwen/Qwen3-8B", "http://judge:30000/v1", "sglang").name == "sglang"
    assert detect_family("judge", "http://127.0.0.1:8080/v1", "llamacpp").name == "llamacpp"
    assert detect_family("judge", "http://judge:8000/v1", "me").name == "llamacpp"  # llama-cpp-python
    assert detect_family("gpt-4.1-mini", "https://api.openai.com/v1").name == "openai"
    assert detect_family("o4-mini", "https://api.openai.com/v1").name == "openai-reasoning"
    assert detect_family("gpt-5-mini", "https://api.openai.com/v1").name == "openai-reasoning"
    assert detect_family("openai/gpt-oss-120b", "https://api.groq.com/openai/v1", "OpenAI").name == "gpt-oss-hosted"
    assert detect_family("openai/gpt-oss-20b", "http://judge:8000/v1", "vllm").name == "gpt-oss"
    assert detect_family("deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", "http://x:8000/v1").name == "deepseek-r1"
    assert detect_family("Qwen/Qwen3-4B-Thinking-2507", "http://x:8000/v1", "vllm").name == "deepseek-r1"
    assert detect_family("some-model", "https://example.org/v1").name == "openai-compatible"


def test_refusals_are_learned_once_and_remembered(grader_for: Any) -> None:
    """`auto` against o4-mini: four refusals on the first call, none afterwards."""
    client, server = grader_for(OpenAIReasoningServer("o4-mini"), judge_family="auto", judge_concurrency=1)
    _check(_grade(client, "logprob", None), HARD)
    refused_first = server.stats.refused
    assert refused_first == 4  # max_tokens, temperature, logprobs (403), chat_template_kwargs
    _check(_grade(client, "sample", None), SOFT)
    assert server.stats.refused == refused_first
    caps = client.get("/v1/judge").json()["capabilities"]
    (mine,) = caps.values()
    assert mine["token_param"] == "max_completion_tokens" and not mine["temperature"] and not mine["logprobs"]
    assert mine["reasoning"] is True


def test_llamacpp_n_refusal_is_not_retried(grader_for: Any) -> None:
    client, server = grader_for(
        LlamaCppServer("judge", "instruct"), judge_family="openai-compatible", judge_concurrency=1
    )
    _check(_grade(client, "sample", None), SOFT)
    assert server.stats.refused == 1  # the 500 was understood once, not retried four times
    assert all(int(b.get("n") or 1) == 1 for b in server.stats.bodies[1:])


def test_thinking_decoys_are_never_read_as_the_answer(grader_for: Any) -> None:
    """The old failure: max_tokens=1 on a thinking Qwen3 gave `<think>` with YES/NO far down the list."""
    client, _ = grader_for(VLLMServer("Qwen/Qwen3-8B", "qwen3"), judge_family="vllm")
    res = _grade(client, "logprob", {"chat_template_kwargs": {"enable_thinking": True}})
    assert res["reward"] == pytest.approx(SOFT)
    assert [c["p_met"] for c in res["criteria"]] == pytest.approx([1.0, 0.0, 0.4, 0.8])


# ---------------------------------------------------------------- malformed replies

BROKEN_KINDS = [
    "not-json",
    "array",
    "no-choices",
    "message-null",
    "content-number",
    "nan-logprob",
    "string-logprob",
    "positive-logprob",
    "top-not-list",
]


@pytest.mark.parametrize("kind", BROKEN_KINDS)
def test_malformed_reply_is_a_typed_criterion_error_not_a_500(grader_for: Any, kind: str) -> None:
    client, server = grader_for(BrokenServer(), judge_family="vllm", judge_max_attempts=3)
    healthy = {**ITEM, "id": "ok"}
    bad_rubric = [*RUBRIC[:1], {"criterion": f"Mentions rest [broken={kind}]", "points": 1}]
    broken = {**ITEM, "id": "bad", "rubric": bad_rubric}
    body = {"items": [healthy, broken], "scheme": "healthbench", "judge": {"mode": "logprob"}}
    r = client.post("/v1/grade", json=body)
    assert r.status_code == 200, r.text
    ok, bad = r.json()["results"]
    assert ok["reward"] == pytest.approx(SOFT) and ok["error"] is None
    assert bad["reward"] is None and bad["error"]["type"] == "judge_bad_response"
    crit = bad["criteria"][1]
    assert crit["error"]["type"] == "judge_bad_response" and crit["met"] is None
    calls = server.stats.calls
    # retried within the bounded budget, and never cached: the same request calls the judge again
    again = client.post("/v1/grade", json={**body, "items": [broken]}).json()["results"][0]
    assert again["error"]["type"] == "judge_bad_response"
    assert 1 <= server.stats.calls - calls <= 3 + 1


def test_a_malformed_reply_once_is_retried_and_then_scored(grader_for: Any) -> None:
    client, _ = grader_for(BrokenServer(), judge_family="vllm")
    rubric = [{"criterion": "Mentions rest [broken=once-not-json] [p=1]", "points": 1}]
    res = client.post(
        "/v1/grade", json={"items": [{**ITEM, "rubric": rubric}], "scheme": "healthbench", "judge": {"mode": "logprob"}}
    ).json()["results"][0]
    assert res["error"] is None and res["reward"] == pytest.approx(1.0)
    assert res["usage"]["judge_calls"] == 2


def test_an_item_certain_to_be_null_stops_spending_judge_calls(grader_for: Any) -> None:
    server = BrokenServer()
    server.latency_s = 0.1
    client, _ = grader_for(server, judge_family="vllm", judge_concurrency=1, judge_max_attempts=1)
    rubric = [{"criterion": "Mentions rest [broken=not-json]", "points": 1}] + [
        {"criterion": f"Mentions point {i} [p=1]", "points": 1} for i in range(7)
    ]
    body = {"items": [{**ITEM, "rubric": rubric}], "scheme": "healthbench", "judge": {"mode": "logprob"}}
    res = client.post("/v1/grade", json=body).json()["results"][0]
    assert res["reward"] is None and res["error"]["type"] == "judge_bad_response"
    not_judged = [c for c in res["criteria"] if c["error"] and c["error"]["type"] == "not_judged"]
    assert len(not_judged) >= 5, [c["error"] for c in res["criteria"]]
    assert server.stats.calls <= 2  # the failing call, and at most the one call already in flight


# ---------------------------------------------------------------- the capability probe and /readyz


@pytest.mark.parametrize(
    ("server", "family", "mode", "status", "says"),
    [
        (lambda: VLLMServer("Qwen/Qwen3-8B", "qwen3"), "auto", "logprob", "ready", "logprob mode returns a verdict"),
        (lambda: OpenAIReasoningServer("o4-mini"), "auto", "logprob", "degraded", "no logprobs"),
        (lambda: GroqServer("openai/gpt-oss-20b"), "auto", "sample", "ready", "n > 1 is refused"),
        (lambda: VLLMServer("judge", "r1"), "auto", "logprob", "failing", "GRADER_JUDGE_FAMILY"),
    ],
    ids=["vllm-qwen3", "openai-reasoning", "groq-gpt-oss", "r1-alias"],
)
def test_readyz_probe_says_what_works_and_what_to_change(
    grader_for: Any, server: Any, family: str, mode: str, status: str, says: str
) -> None:
    client, _ = grader_for(server(), judge_family=family, judge_mode=mode, judge_probe=True)
    r = client.get("/readyz")
    body = r.json()
    assert body["status"] == status, json.dumps(body, indent=1)
    assert r.status_code == (503 if status == "failing" else 200)
    text = json.dumps(body["probe"])
    assert says in text, text
    assert body["probe"]["capabilities"] is not None


def test_readyz_never_advises_a_field_the_endpoint_refused(grader_for: Any) -> None:
    """An OpenAI reasoning model behind an unknown host: the grader learns it refuses `chat_template_kwargs`
    and that it reasons; the advice for the latter must not be the field it just refused."""
    client, _ = grader_for(OpenAIReasoningServer("o4-mini"), judge_family="auto", judge_probe=True)
    probe = client.get("/readyz").json()["probe"]
    assert "chat_template_kwargs" in probe["capabilities"]["dropped_fields"]
    advice = [a for a in probe["adapted"] if "reasoning budget" in a]
    assert advice and "enable_thinking" not in advice[0] and "non-reasoning judge model" in advice[0]


def test_readyz_reports_an_unreachable_judge_with_its_url_redacted() -> None:
    settings = grader_settings("http://user:s3cret@127.0.0.1:9/v1", judge_probe=True, judge_timeout_s=1.0)
    with serve(create_app(settings)) as url:
        r = httpx.get(url + "/readyz", timeout=30)
    assert r.status_code == 503 and r.json()["status"] == "unreachable"
    assert "s3cret" not in r.text and "***@127.0.0.1:9" in r.text


def test_unknown_family_is_a_422_naming_the_field(grader_for: Any) -> None:
    client, _ = grader_for(VLLMServer("m"), judge_family="vllm")
    r = client.post("/v1/grade", json={"items": [ITEM], "judge": {"family": "mystery"}})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "judge", "family"]
