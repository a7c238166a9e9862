"""The shared core of the imitation judge servers: a deterministic "model" and an OpenAI-style server.

The model decides like `tests/scripted_judge.py` (``[p=0.8]`` in a criterion fixes P(met)), but it
talks like the real thing: reasoning models write a reasoning trace first, full of decoys (our own
instruction's `{"met": false}` example, YES and NO), then the answer; tokens carry logprobs with
alternatives, so a grader that reads the wrong position gets a wrong number and the tests see it.

Sampling is deterministic and low-discrepancy: the k-th sample of a prompt says "met" exactly when
round((k+1)·p) > round(k·p), so the first sample is the greedy answer and any 5 consecutive samples
hold round(5p) "met"s.
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
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.scripted_judge import _CRITERION, graded_response, p_met, rating_for

YESNO_MARK = "Answer with one word: YES or NO."
NUMBER_MARK = "Answer with only the integer."
ANSWER_MASS = 0.98  # what YES and NO hold together at the answer position

DECOY_REASONING = (
    'The instructions say to output {"met": false} if the criterion is not met, and the one-word '
    "answer would be NO or YES. Let me read the response again. It says something relevant, but "
    "NO, I should check the exact wording first. YES, the criterion text is clear. Now decide."
)

_SPECIAL = re.compile(r"(<think>|</think>|<\|[a-z_]+\|>)")
_PIECE = re.compile(r"\s+|[A-Za-z]+|\d|[^\sA-Za-z\d]")


def tokenize(text: str) -> list[str]:
    out: list[str] = []
    for part in _SPECIAL.split(text):
        if not part:
            continue
        out.extend([part] if _SPECIAL.fullmatch(part) else _PIECE.findall(part))
    return out


@dataclass
class Tok:
    text: str
    alts: list[tuple[str, float]]  # (token, probability), the sampled token first


def plain(text: str) -> list[Tok]:
    return [
        Tok(t, [(t, 0.9), ("the", 0.06), (" and", 0.04)] if t != "the" else [(t, 0.9), ("a", 0.1)])
        for t in tokenize(text)
    ]


@dataclass
class Thought:
    """What the model would write: reasoning (maybe empty), then the answer with its first-token alternatives."""

    reasoning: str
    answer: list[Tok]


@dataclass
class Sampler:
    counts: dict[str, int] = field(default_factory=dict)

    def met(self, key: str, p: float) -> bool:
        k = self.counts.get(key, 0)
        self.counts[key] = k + 1
        return math.floor((k + 1) * p + 0.5) > math.floor(k * p + 0.5)


def think(messages: list[dict[str, Any]], sampler: Sampler, *, sample: bool) -> Thought:
    """The imitation model's reply to one of our judge prompts (criterion, YES/NO or Likert)."""
    user = next(m["content"] for m in messages if m["role"] == "user")
    response = graded_response(user)
    crits = list(_CRITERION.finditer(user))
    crit = crits[-1] if crits else None
    if crit is None:  # whole-rubric Likert prompt
        rating = rating_for(user, response)
        if NUMBER_MARK in user:
            digit = str(rating)[0]
            alt = str(rating - 1 if rating > 1 else 2)[0]
            answer = [Tok(digit, [(digit, 0.75), (alt, 0.25)])]
            if rating == 10:
                answer.append(Tok("0", [("0", 1.0)]))
            return Thought(DECOY_REASONING, answer)
        return Thought(DECOY_REASONING, plain(f'The rubric is covered to this degree.\n{{"rating": {rating}}}'))
    p = p_met(crit.group(1), response)
    if YESNO_MARK in user:
        word = "YES" if p >= 0.5 else "NO"
        alts = sorted(
            [("YES", ANSWER_MASS * p), ("NO", ANSWER_MASS * (1 - p)), ("Maybe", 1 - ANSWER_MASS)], key=lambda a: -a[1]
        )
        alts = [(word, dict(alts)[word])] + [a for a in alts if a[0] != word]
        return Thought(DECOY_REASONING, [Tok(word, alts)])
    met = sampler.met(user, p) if sample else p >= 0.5
    return Thought(
        DECOY_REASONING, plain(f'The response was checked against the criterion.\n{{"met": {str(met).lower()}}}')
    )


def lp(p: float) -> float:
    return math.log(p) if p > 0 else -9999.0  # vLLM's stand-in for -inf


def logprob_entries(tokens: list[Tok], top_k: int) -> list[dict[str, Any]]:
    return [
        {
            "token": t.text,
            "logprob": lp(t.alts[0][1]),
            "bytes": list(t.text.encode()),
            "top_logprobs": [{"token": a, "logprob": lp(q), "bytes": list(a.encode())} for a, q in t.alts[:top_k]],
        }
        for t in tokens
    ]


def completion(
    model: str, choices: list[dict[str, Any]], prompt_tokens: int, completion_tokens: int, **usage: Any
) -> JSONResponse:
    return JSONResponse(
        {
            "id": f"chatcmpl-{time.monotonic_ns()}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": choices,
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
                **usage,
            },
        }
    )


@dataclass
class Stats:
    calls: int = 0
    refused: int = 0
    bodies: list[dict[str, Any]] = field(default_factory=list)


class ImitationServer:
    """An OpenAI-compatible chat server; subclasses add one product's documented behaviour."""

    owned_by = "imitation"

    def __init__(self, model: str) -> None:
        self.model = model
        self.sampler = Sampler()
        self.stats = Stats()
        self.latency_s = 0.0

    # hooks ---------------------------------------------------------------
    def refuse(self, body: dict[str, Any]) -> Response | None:
        """An error reply for a request this product does not accept, or None."""
        return None

    def reply(self, body: dict[str, Any]) -> Response:
        raise NotImplementedError

    # plumbing -------------------------------------------------------------
    def app(self) -> Starlette:
        async def chat(request: Request) -> Response:
            body = await request.json()
            if self.latency_s:
                await asyncio.sleep(self.latency_s)
            self.stats.calls += 1
            self.stats.bodies.append(body)
            refused = self.refuse(body)
            if refused is not None:
                self.stats.refused += 1
                return refused
            return self.reply(body)

        async def models(_: Request) -> JSONResponse:
            return JSONResponse(
                {"object": "list", "data": [{"id": self.model, "object": "model", "owned_by": self.owned_by}]}
            )

        return Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"]), Route("/v1/models", models)])

    @staticmethod
    def prompt_tokens(body: dict[str, Any]) -> int:
        return sum(len(str(m.get("content", ""))) for m in body.get("messages", [])) // 4

    @staticmethod
    def n(body: dict[str, Any]) -> int:
        return int(body.get("n") or 1)

    @staticmethod
    def max_tokens(body: dict[str, Any], default: int = 4096) -> int:
        value = body.get("max_completion_tokens", body.get("max_tokens"))
        return int(value) if value is not None else default

    @staticmethod
    def sampled(body: dict[str, Any]) -> bool:
        return float(body.get("temperature", 1.0)) > 0 or int(body.get("n") or 1) > 1
