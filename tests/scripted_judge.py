"""A scripted OpenAI-compatible judge server: deterministic verdicts and logprobs, with fault injection.

A real HTTP server (Starlette under uvicorn), not a model: it reads our judge prompts back, decides
from the text, and answers in the OpenAI chat-completions wire format. Used for exact-value tests,
fault injection and benchmarks; the llama.cpp test covers a real model.

Decision rule for one criterion:
- a directive ``[p=0.7]`` in the criterion text fixes P(met) = 0.7;
- a directive ``[contains=xy]`` makes it met (P = 1) iff the response contains "xy", else P = 0;
- a directive ``[letter=e]`` makes P(met) grow with the share of that letter among the response's letters
  (4 x the share, kept within 0.02..0.98): a graded, measurable property a policy can learn
  (tests/test_learning_signal.py);
- a criterion the grader lists as ``Fails this: <text>`` (an avoid-phrased pitfall in a whole-rubric rating)
  has 1 - P(met) of <text>, as a judge that follows the wording would;
- otherwise P(met) is the share of the criterion's content words (5+ letters) found in the response,
  pushed to 0.9 / 0.1 around 0.5.
Fault directives in the criterion text: ``[fault=500]``, ``[fault=429]``, ``[fault=400]`` (any status),
``[fault=slow]`` (sleeps `slow_s`), ``[fault=garbage]`` (never a verdict), ``[fault=garbage-once]``
(garbage until re-asked).
Prompts in simple-evals' grader layout (``# Conversation`` … ``# Rubric item`` ``[points] criterion``), what a
custom judge template following the reference renders, are read the same way.
Global faults: ``POST /_control {"fail_next": [503, 503], "latency_s": 0.05, "logprobs": false}``.
It records what it receives: the last `record` request bodies, exactly as sent, in `JudgeScript.received`
(the security tests check that no field a grader's owner did not allow reaches the judge), and
`explanation`, when set, is the text a verdict answers with before its JSON.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

_RESPONSE = re.compile(r"<<<response-(\w+)\n(.*?)\nresponse-\1>>>", re.S)
_ASSISTANT_TURN = re.compile(r"<<<turn-assistant-(\w+)\n(.*?)\nturn-assistant-\1>>>", re.S)
_CRITERION = re.compile(r"\nCriterion \((?:reward|penalty)\):\n(.*?)\n\n(?:Explain|Is the criterion)", re.S)
# simple-evals' grader layout, which a custom template following the reference renders
_REF_RUBRIC_ITEM = re.compile(r"# Rubric item\n\[[-\d.]+\] (.*?)\n\n#", re.S)
_REF_LAST_ASSISTANT = re.compile(
    r"(?:^|\n\n)assistant: (.*?)(?=\n\n(?:user|assistant|system): |\n\n# Rubric item)", re.S
)
_RUBRIC_LINE = re.compile(r"^\d+\. \[(reward|penalty), ([\d.]+) points\] (.*)$", re.M)
_P = re.compile(r"\[p=([\d.]+)\]")
_FAILS = "Fails this: "
_FAULT = re.compile(r"\[fault=([\w-]+)\]")
_CONTAINS = re.compile(r"\[contains=([^\]]+)\]")
_LETTER = re.compile(r"\[letter=(\w)\]")
_WORD = re.compile(r"[a-z]{5,}")
_STOP = {
    "about",
    "which",
    "their",
    "there",
    "these",
    "those",
    "should",
    "would",
    "could",
    "response",
    "criterion",
    "mentions",
    "states",
    "clearly",
    "explains",
    "patient",
    "other",
    "being",
    "whether",
}


@dataclass
class JudgeScript:
    latency_s: float = 0.0
    slow_s: float = 30.0
    logprobs: bool = True
    honour_n: bool = True
    fail_next: list[int] = field(default_factory=list)
    calls: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    calls_by_fault: dict[str, int] = field(default_factory=dict)
    record: int = 0
    received: list[dict[str, Any]] = field(default_factory=list)
    explanation: str | None = None


def _content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


def letter_p(letter: str, response: str) -> float:
    letters = [ch for ch in response.lower() if ch.isalpha()]
    share = letters.count(letter.lower()) / len(letters) if letters else 0.0
    return min(0.98, max(0.02, 4 * share))


def p_met(criterion: str, response: str) -> float:
    if criterion.startswith(_FAILS):  # the grader's fault form of an avoid pitfall: a faithful judge's reading
        return 1.0 - p_met(criterion[len(_FAILS) :], response)
    if m := _P.search(criterion):
        return float(m.group(1))
    if m := _CONTAINS.search(criterion):
        return 1.0 if m.group(1).lower() in response.lower() else 0.0
    if m := _LETTER.search(criterion):
        return letter_p(m.group(1), response)
    words = _content_words(_P.sub("", _FAULT.sub("", criterion.split("\n(This criterion")[0])))
    if not words:
        return 0.1
    share = len(words & _content_words(response)) / len(words)
    return 0.9 if share >= 0.5 else 0.1


def graded_response(user: str) -> str:
    if m := _RESPONSE.search(user):
        return m.group(2)
    if "# Rubric item" in user and (found := _REF_LAST_ASSISTANT.findall(user)):
        return found[-1]
    turns = _ASSISTANT_TURN.findall(user)  # healthbench template: the last assistant turn
    return turns[-1][1] if turns else ""


def rating_for(user: str, response: str) -> int:
    got = total = 0.0
    for kind, pts, text in _RUBRIC_LINE.findall(user):
        w = float(pts)
        p = p_met(text, response)
        got += w * (p if kind == "reward" else 1 - p)
        total += w
    return 1 + round(9 * got / total) if total else 1


def _lp(p: float) -> float:
    return math.log(p) if p > 0 else -1e9


def _top(pairs: list[tuple[str, float]]) -> list[dict[str, Any]]:
    return [{"token": t, "logprob": _lp(p), "bytes": None} for t, p in pairs if p > 0]


def _choice(i: int, content: str, logprobs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "index": i,
        "message": {"role": "assistant", "content": content},
        "finish_reason": "stop",
        "logprobs": {"content": logprobs} if logprobs is not None else None,
    }


def build_app(script: JudgeScript | None = None) -> Starlette:
    script = script or JudgeScript()

    async def completions(request: Request) -> JSONResponse:
        script.in_flight += 1
        script.max_in_flight = max(script.max_in_flight, script.in_flight)
        try:
            return await _completions(request)
        finally:
            script.in_flight -= 1

    async def _completions(request: Request) -> JSONResponse:
        body = await request.json()
        script.calls += 1
        if script.record:
            script.received = [*script.received, body][-script.record :]
        if script.latency_s:
            await asyncio.sleep(script.latency_s)
        if script.fail_next:
            code = script.fail_next.pop(0)
            headers = {"retry-after": "0"} if code == 429 else None
            return JSONResponse({"error": {"message": f"scripted {code}", "type": "scripted"}}, code, headers=headers)
        messages = body["messages"]
        user = next(m["content"] for m in messages if m["role"] == "user")
        response = graded_response(user)
        crits = list(_CRITERION.finditer(user))  # ours is always the last; one inside a fence is quoted text
        crit = crits[-1] if crits else _REF_RUBRIC_ITEM.search(user)
        criterion = crit.group(1) if crit else ""
        fault = m.group(1) if (m := _FAULT.search(criterion)) else None
        if fault:
            script.calls_by_fault[fault] = script.calls_by_fault.get(fault, 0) + 1
        if fault is not None and fault.isdigit():
            headers = {"retry-after": "0"} if fault == "429" else None
            return JSONResponse({"error": {"message": f"scripted {fault}"}}, int(fault), headers=headers)
        if fault == "slow":
            await asyncio.sleep(script.slow_s)
        reasked = len(messages) > 2
        garbage = fault == "garbage" or (fault == "garbage-once" and not reasked)
        want_lp = bool(body.get("logprobs")) and script.logprobs
        n = int(body.get("n") or 1) if script.honour_n else 1
        choices: list[dict[str, Any]]
        if crit is None:  # a whole-rubric Likert prompt
            rating = rating_for(user, response)
            if body.get("max_tokens") == 2:
                alt = rating - 1 if rating > 1 else 2
                first = [(str(rating)[0], 0.75), (str(alt)[0], 0.25)]
                lp = [{"token": str(rating)[0], "logprob": _lp(0.75), "bytes": None, "top_logprobs": _top(first)}]
                if rating == 10:
                    lp.append({"token": "0", "logprob": 0.0, "bytes": None, "top_logprobs": _top([("0", 1.0)])})
                choices = [_choice(0, str(rating), lp if want_lp else None)]
            else:
                choices = [_choice(0, f'The response covers the rubric to this degree.\n{{"rating": {rating}}}')]
        else:
            p = p_met(criterion, response)
            if body.get("max_tokens") == 1:
                token = "garbage" if garbage else ("YES" if p >= 0.5 else "NO")
                lp = [
                    {
                        "token": token,
                        "logprob": _lp(max(p, 1 - p)),
                        "bytes": None,
                        "top_logprobs": _top([("YES", p), ("NO", 1 - p)]),
                    }
                ]
                choices = [_choice(0, token, None if garbage or not want_lp else lp)]
            else:
                n_yes = round(p * n) if n > 1 else int(p >= 0.5)
                choices = []
                for i in range(n):
                    met = i < n_yes
                    said = script.explanation if script.explanation is not None else "Checked the response."
                    text = "Hmm, hard to say." if garbage else f'{said}\n{{"met": {str(met).lower()}}}'
                    choices.append(_choice(i, text))
        prompt_tokens = sum(len(m["content"]) for m in messages) // 4
        return JSONResponse(
            {
                "id": f"chatcmpl-{script.calls}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "scripted"),
                "choices": choices,
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": 8 * len(choices),
                    "total_tokens": prompt_tokens + 8 * len(choices),
                },
            }
        )

    async def models(_: Request) -> JSONResponse:
        return JSONResponse({"object": "list", "data": [{"id": "scripted", "object": "model", "owned_by": "tests"}]})

    async def control(request: Request) -> JSONResponse:
        for k, v in (await request.json()).items():
            setattr(script, k, v)
        return JSONResponse({"ok": True})

    async def stats(_: Request) -> JSONResponse:
        return JSONResponse(
            {"calls": script.calls, "calls_by_fault": script.calls_by_fault, "max_in_flight": script.max_in_flight}
        )

    app = Starlette(
        routes=[
            Route("/v1/chat/completions", completions, methods=["POST"]),
            Route("/v1/models", models),
            Route("/_control", control, methods=["POST"]),
            Route("/_stats", stats),
        ]
    )
    app.state.script = script
    return app


def main() -> None:
    """`python -m tests.scripted_judge --port 9100 --latency 0.05`: serve it standalone (benchmarks, demos)."""
    import argparse

    import uvicorn

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=9100)
    ap.add_argument("--latency", type=float, default=0.0, help="seconds each completion takes")
    args = ap.parse_args()
    uvicorn.run(
        build_app(JudgeScript(latency_s=args.latency)),
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
