"""Judge families: per-server and per-model quirks, one small class each, and how one is chosen."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from grader_service.judge.families._base import CallSpec, Capabilities, JudgeFamily, Refusal
from grader_service.judge.families._openai import OpenAIChat, OpenAIReasoning
from grader_service.judge.families._reasoners import DeepSeekR1, GptOss, GptOssHosted
from grader_service.judge.families._servers import VLLM, LlamaCpp, SGLang

FAMILIES: dict[str, type[JudgeFamily]] = {
    cls.name: cls
    for cls in (JudgeFamily, VLLM, SGLang, LlamaCpp, OpenAIChat, OpenAIReasoning, GptOss, GptOssHosted, DeepSeekR1)
}
FAMILY_NAMES = ("auto", *FAMILIES)

_OPENAI_REASONING = re.compile(r"^(o\d|gpt-5(?!.*chat))")
_R1_STYLE = re.compile(r"deepseek-r1|r1-distill|qwq|thinking")
# what /v1/models says in `owned_by`; llama-cpp-python's server says "me"
_SERVERS = {"vllm": VLLM, "sglang": SGLang, "llamacpp": LlamaCpp, "me": LlamaCpp}


def _host(base_url: str) -> str:
    return (urlsplit(base_url).hostname or "").lower()


def detect_family(model: str, base_url: str, owned_by: str | None = None) -> JudgeFamily:
    """The family for `model` at `base_url`; `owned_by` is what the server's /v1/models says of it."""
    m = model.lower().rsplit("/", 1)[-1]
    host = _host(base_url)
    server = _SERVERS.get((owned_by or "").lower())
    if host == "api.openai.com" or host.endswith(".openai.azure.com"):
        return OpenAIReasoning() if _OPENAI_REASONING.match(m) else OpenAIChat()
    if "gpt-oss" in m:
        return GptOss() if server is not None or _is_local(host) else GptOssHosted()
    if _R1_STYLE.search(m):
        return DeepSeekR1()
    if server is not None:
        return server()
    return JudgeFamily()


def _is_local(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith(("127.", "10.", "192.168.")) or "." not in host


def family(name: str) -> JudgeFamily:
    return FAMILIES[name]()


__all__ = [
    "FAMILIES",
    "FAMILY_NAMES",
    "CallSpec",
    "Capabilities",
    "JudgeFamily",
    "Refusal",
    "detect_family",
    "family",
]
