"""OpenAI's hosted models."""

from __future__ import annotations

from typing import Any, ClassVar

from grader_service.judge.families._base import JudgeFamily


class OpenAIChat(JudgeFamily):
    """GPT-4.1/4o-style chat models: `max_completion_tokens`, logprobs (top 20) and `n`; no extra fields."""

    name: ClassVar[str] = "openai"
    summary: ClassVar[str] = "OpenAI chat models (gpt-4.1, gpt-4o): logprobs, n"
    token_param: ClassVar[str] = "max_completion_tokens"
    extra_body: ClassVar[dict[str, Any]] = {}
    thinking_off: ClassVar[str] = "a non-reasoning model"


class OpenAIReasoning(JudgeFamily):
    """o-series and gpt-5 models: hidden reasoning that counts against `max_completion_tokens`, no
    `max_tokens`, no temperature other than 1, no logprobs (so logprob mode gives hard verdicts)."""

    name: ClassVar[str] = "openai-reasoning"
    summary: ClassVar[str] = "OpenAI reasoning models (o3, o4-mini, gpt-5): no logprobs or temperature"
    token_param: ClassVar[str] = "max_completion_tokens"
    temperature: ClassVar[bool] = False
    logprobs: ClassVar[bool] = False
    reasoning: ClassVar[bool] = True
    extra_body: ClassVar[dict[str, Any]] = {"reasoning_effort": "low"}
    thinking_off: ClassVar[str] = 'GRADER_JUDGE_EXTRA_BODY=\'{"reasoning_effort": "minimal"}\' (gpt-5)'
