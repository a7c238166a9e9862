"""Self-hosted inference servers: vLLM, SGLang, llama.cpp."""

from __future__ import annotations

from typing import ClassVar

from grader_service.judge.families._base import JudgeFamily


class VLLM(JudgeFamily):
    """vLLM's OpenAI server. Accepts `chat_template_kwargs`, so Qwen3-style hybrid models answer without
    thinking; with `--reasoning-parser` the reasoning arrives split off, and the logprobs still cover it."""

    name: ClassVar[str] = "vllm"
    summary: ClassVar[str] = "vLLM: thinking off through chat_template_kwargs; logprobs, n"


class SGLang(JudgeFamily):
    """SGLang's OpenAI server: like vLLM (`chat_template_kwargs`, `--reasoning-parser`; logprobs include
    the reasoning tokens while `content` holds only the answer)."""

    name: ClassVar[str] = "sglang"
    summary: ClassVar[str] = "SGLang: thinking off through chat_template_kwargs; logprobs, n"


class LlamaCpp(JudgeFamily):
    """llama.cpp's `llama-server` (and llama-cpp-python's server): one completion per request — `n > 1` is
    refused with a 500 — so samples are drawn one call at a time."""

    name: ClassVar[str] = "llamacpp"
    summary: ClassVar[str] = "llama.cpp server: n > 1 refused (single calls); logprobs"
    n: ClassVar[bool] = False
