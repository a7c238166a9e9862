"""What every judge family shares: the request it builds, and how it learns from a refusal.

A family describes one kind of server or model (vLLM, OpenAI's reasoning models, gpt-oss, ...): the
parameters it accepts, whether the model reasons before answering, and which extra request fields
it wants. `Capabilities` starts from the family's declaration and then learns: a 400 that names an
unsupported parameter is understood once, adapted to, and remembered for that model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

from grader_service.judge._answer import Answer, split_answer

# what a family declares up front (class attributes of the same names); the rest is learned per endpoint
STARTING_CAPABILITIES = ("token_param", "temperature", "logprobs", "top_logprobs_max", "n", "reasoning")


@dataclass
class Capabilities:
    """What one model on one endpoint accepts. Mutable: refusals teach it."""

    token_param: str = "max_tokens"
    temperature: bool = True
    logprobs: bool = True
    top_logprobs_max: int = 20
    n: bool = True
    reasoning: bool = False  # the model reasons before answering: calls need a reasoning budget
    dropped: set[str] = field(default_factory=set)  # extra body fields the endpoint refused
    learned: list[str] = field(default_factory=list)  # what was adapted, in words, for /readyz

    def as_dict(self) -> dict[str, Any]:
        return {
            **{name: getattr(self, name) for name in STARTING_CAPABILITIES},
            "dropped_fields": sorted(self.dropped),
            "learned": list(self.learned),
        }


@dataclass(frozen=True)
class CallSpec:
    """One judge call as the grader means it, before any family's quirks."""

    model: str
    messages: list[dict[str, str]]
    answer_tokens: int  # tokens the answer itself needs (1 for YES/NO; more for an explained verdict)
    temperature: float
    logprobs: bool = False
    top_logprobs: int = 0
    n: int = 1


@dataclass(frozen=True)
class Refusal:
    """A judge's error reply, reduced to what adaptation needs."""

    status: int
    message: str
    param: str | None = None
    code: str | None = None


_UNSUPPORTED = ("not supported", "unsupported", "not allowed", "not enabled", "does not support", "not permitted")
_UNKNOWN_FIELD = ("unrecognized request argument", "extra inputs are not permitted", "unexpected keyword", "unknown")
_TOP_LOGPROBS_MAX = re.compile(
    r"top_logprobs[^0-9]{0,60}?(?:<=|at most|less than or equal to|maximum(?: of)?|max)\s*(\d+)"
)
_N_REFUSED = re.compile(r"only one completion choice|'n'\s*:|\bn\b[^.]{0,40}(?:at most 1|must be 1|only n\s*=\s*1)")


class JudgeFamily:
    """An OpenAI-compatible server of unknown make: standard parameters, and thinking switched off
    through `chat_template_kwargs` (vLLM, SGLang and llama.cpp accept it; a server that refuses it
    teaches the grader to stop sending it)."""

    name: ClassVar[str] = "openai-compatible"
    summary: ClassVar[str] = "any OpenAI-compatible server; adapts to what it refuses"
    token_param: ClassVar[str] = "max_tokens"
    temperature: ClassVar[bool] = True
    logprobs: ClassVar[bool] = True
    top_logprobs_max: ClassVar[int] = 20
    n: ClassVar[bool] = True
    reasoning: ClassVar[bool] = False  # always reasons (cannot be switched off)
    implicit_open: ClassVar[bool] = False  # the template opens the reasoning block itself (R1 distills)
    extra_body: ClassVar[dict[str, Any]] = {"chat_template_kwargs": {"enable_thinking": False}}
    thinking_off: ClassVar[str] = (
        'GRADER_JUDGE_EXTRA_BODY=\'{"chat_template_kwargs": {"enable_thinking": false}}\' (Qwen3-style models)'
    )

    def thinking_off_hint(self, caps: Capabilities) -> str:
        """How to switch reasoning off, unless this endpoint already refused the field that would do it."""
        if any(f in self.thinking_off for f in caps.dropped):
            return "only by choosing a non-reasoning judge model: this endpoint refused the switch"
        return self.thinking_off

    def capabilities(self) -> Capabilities:
        return Capabilities(**{name: getattr(self, name) for name in STARTING_CAPABILITIES})

    # ------------------------------------------------------------ request

    def request(
        self, caps: Capabilities, spec: CallSpec, extra_body: dict[str, Any], reasoning_budget: int
    ) -> dict[str, Any]:
        """Keyword arguments for `client.chat.completions.create`."""
        kwargs: dict[str, Any] = {"model": spec.model, "messages": spec.messages}
        # after reasoning, the answer may come after a few separator tokens ("\n\n", a channel header)
        budget = spec.answer_tokens + (reasoning_budget + 8 if caps.reasoning else 0)
        kwargs[caps.token_param] = budget
        if caps.temperature:
            kwargs["temperature"] = spec.temperature
        if spec.logprobs and caps.logprobs:
            kwargs["logprobs"] = True
            kwargs["top_logprobs"] = min(spec.top_logprobs, caps.top_logprobs_max)
        if spec.n > 1 and caps.n:
            kwargs["n"] = spec.n
        body = {k: v for k, v in {**self.extra_body, **extra_body}.items() if k not in caps.dropped}
        if body:
            kwargs["extra_body"] = body
        return kwargs

    # ------------------------------------------------------------ reply

    def answer(self, content: str, reasoning: str) -> Answer:
        return split_answer(content, reasoning, implicit_open=self.implicit_open)

    # ------------------------------------------------------------ learning from refusals

    def adapt(self, caps: Capabilities, refusal: Refusal, sent: dict[str, Any]) -> str | None:
        """Change `caps` so the refused request can be sent again; None when nothing in it can help."""
        if refusal.status not in (400, 403, 404, 422, 500):
            return None
        msg = refusal.message.lower()
        param = (refusal.param or "").lower()
        refused = any(w in msg for w in _UNSUPPORTED)
        if refusal.status == 500:  # llama.cpp's server refuses n > 1 with a 500; no other 500 is a refusal
            if "n" in sent and _N_REFUSED.search(msg):
                caps.n = False
                return "n > 1 refused: one sample per call"
            return None

        if "max_tokens" in sent and "max_completion_tokens" in msg and caps.token_param != "max_completion_tokens":
            caps.token_param = "max_completion_tokens"
            return "sends max_completion_tokens instead of max_tokens"
        if "top_logprobs" in sent and (m := _TOP_LOGPROBS_MAX.search(msg)) and int(m.group(1)) < sent["top_logprobs"]:
            caps.top_logprobs_max = max(1, int(m.group(1)))
            return f"asks for at most {caps.top_logprobs_max} top logprobs"
        if "logprobs" in sent and ("logprobs" in param or "logprobs" in msg) and refused:
            caps.logprobs = False
            return "the endpoint returns no logprobs: verdicts are hard (0 or 1)"
        if "temperature" in sent and (param == "temperature" or "temperature" in msg) and (refused or "value" in msg):
            caps.temperature = False
            return "leaves temperature at the endpoint's default"
        if "n" in sent and (param == "n" or _N_REFUSED.search(msg)):
            caps.n = False
            return "n > 1 refused: one sample per call"
        for key in sent.get("extra_body", {}):
            if key in caps.dropped:
                continue
            if key.lower() in msg and (refused or any(w in msg for w in _UNKNOWN_FIELD) or key.lower() == param):
                caps.dropped.add(key)
                return f"stops sending {key!r}, which the endpoint refused"
        return None
