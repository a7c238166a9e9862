"""Models that always reason before they answer: gpt-oss (harmony) and DeepSeek-R1-style models."""

from __future__ import annotations

from typing import Any, ClassVar

from grader_service.judge.families._base import JudgeFamily


class GptOss(JudgeFamily):
    """gpt-oss on a self-hosted server (vLLM, SGLang, llama.cpp): the harmony format puts an analysis
    channel before the final one, so the first token is a channel header, never the answer. Reasoning
    effort is set low; the answer's probability is read where the final channel starts."""

    name: ClassVar[str] = "gpt-oss"
    summary: ClassVar[str] = "gpt-oss self-hosted: reasoning always on (effort low); logprobs at the final channel"
    reasoning: ClassVar[bool] = True
    extra_body: ClassVar[dict[str, Any]] = {"reasoning_effort": "low"}
    thinking_off: ClassVar[str] = "reasoning cannot be switched off; it runs at reasoning_effort low"


class GptOssHosted(GptOss):
    """gpt-oss on hosted APIs (Groq and similar): no logprobs and `n = 1` only, both refused with a 400."""

    name: ClassVar[str] = "gpt-oss-hosted"
    summary: ClassVar[str] = "gpt-oss on hosted APIs (Groq): no logprobs, n = 1"
    logprobs: ClassVar[bool] = False
    n: ClassVar[bool] = False


class DeepSeekR1(JudgeFamily):
    """DeepSeek-R1 distills, QwQ, Qwen3 *-Thinking: reasoning always on. Their chat templates open the
    `<think>` block themselves, so the reply starts inside it and only `</think>` marks the answer."""

    name: ClassVar[str] = "deepseek-r1"
    summary: ClassVar[str] = "DeepSeek-R1-style thinkers (R1 distills, QwQ, *-Thinking): answer after </think>"
    reasoning: ClassVar[bool] = True
    implicit_open: ClassVar[bool] = True
    extra_body: ClassVar[dict[str, Any]] = {}
    thinking_off: ClassVar[str] = "reasoning cannot be switched off for these models"
