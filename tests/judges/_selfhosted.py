"""Model output styles and reasoning parsers shared by the self-hosted servers (vLLM, SGLang, llama.cpp).

Styles, as their chat templates make them write (sources: Qwen3 and DeepSeek-R1 model cards, the
OpenAI harmony format guide, vLLM's reasoning-outputs docs):
- ``instruct``: the answer only.
- ``qwen3``: hybrid thinking: ``<think>\\n...\\n</think>\\n\\n`` then the answer, unless the request
  carries ``chat_template_kwargs: {"enable_thinking": false}`` (the template then pre-fills an empty block).
- ``r1``: always thinks; the template pre-fills ``<think>\\n`` so the output starts inside the block
  and only ``</think>`` appears.
- ``harmony`` (gpt-oss): ``<|channel|>analysis<|message|>...<|end|><|start|>assistant<|channel|>final
  <|message|>...<|return|>``; ``reasoning_effort`` sets how long the analysis runs.
Logprobs cover every generated token, reasoning and markers included, even when a reasoning parser
splits the text (sgl-project/sglang#25055 shows this for SGLang; vLLM computes them per output token too).
"""

from __future__ import annotations

from typing import Any

from tests.judges._engine import (
    DECOY_REASONING,
    ImitationServer,
    Thought,
    Tok,
    completion,
    logprob_entries,
    plain,
    think,
)

_EFFORT = {"low": 1, "medium": 2, "high": 4}


def raw_tokens(style: str, thought: Thought, body: dict[str, Any]) -> list[Tok]:
    """The whole generated token stream for one reply."""
    reasoning = thought.reasoning or DECOY_REASONING
    if style == "instruct":
        return list(thought.answer)
    if style == "qwen3":
        kwargs = body.get("chat_template_kwargs") or {}
        if kwargs.get("enable_thinking") is False:
            return list(thought.answer)
        first = Tok("<think>", [("<think>", 0.999), ("YES", 0.0007), ("NO", 0.0003)])
        return [
            first,
            *plain("\n" + reasoning + "\n"),
            Tok("</think>", [("</think>", 1.0)]),
            *plain("\n\n"),
            *thought.answer,
        ]
    if style == "r1":
        return [*plain(reasoning + "\n"), Tok("</think>", [("</think>", 1.0)]), *plain("\n\n"), *thought.answer]
    if style == "harmony":
        effort = _EFFORT.get(str(body.get("reasoning_effort", "medium")), 2)
        head = [
            Tok("<|channel|>", [("<|channel|>", 1.0)]),
            *plain("analysis"),
            Tok("<|message|>", [("<|message|>", 1.0)]),
        ]
        middle = [
            Tok("<|end|>", [("<|end|>", 1.0)]),
            Tok("<|start|>", [("<|start|>", 1.0)]),
            *plain("assistant"),
            Tok("<|channel|>", [("<|channel|>", 1.0)]),
            *plain("final"),
            Tok("<|message|>", [("<|message|>", 1.0)]),
        ]
        return [
            *head,
            *plain(" ".join([reasoning] * effort)),
            *middle,
            *thought.answer,
            Tok("<|return|>", [("<|return|>", 1.0)]),
        ]
    raise ValueError(style)


def split_reasoning(style: str, text: str) -> tuple[str | None, str | None]:
    """What a server's reasoning parser makes of the raw text: (reasoning_content, content)."""
    if style == "harmony":
        final_at = text.find("<|channel|>final<|message|>")
        analysis = text.split("<|message|>", 1)[1] if "<|message|>" in text else ""
        if final_at < 0:
            return analysis.split("<|end|>")[0] or None, None
        reasoning = analysis.split("<|end|>")[0]
        content = text[final_at + len("<|channel|>final<|message|>") :].replace("<|return|>", "")
        return reasoning, content
    if "</think>" in text:
        before, after = text.split("</think>", 1)
        return before.replace("<think>", "").strip("\n"), after.lstrip("\n")
    if style == "r1" or text.startswith("<think>"):
        return text.replace("<think>", "").strip("\n") or None, None
    return None, text


class SelfHosted(ImitationServer):
    """vLLM-like behaviour common to the self-hosted servers; subclasses set the differences."""

    def __init__(self, model: str, style: str = "instruct", reasoning_parser: bool = False) -> None:
        super().__init__(model)
        self.style = style
        self.reasoning_parser = reasoning_parser or style == "harmony"  # gpt-oss is always parsed

    def split(self, body: dict[str, Any]) -> bool:
        return self.reasoning_parser

    def choice(self, i: int, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
        thought = think(body["messages"], self.sampler, sample=self.sampled(body))
        tokens = raw_tokens(self.style, thought, body)
        limit = self.max_tokens(body)
        finish = "length" if len(tokens) > limit else "stop"
        tokens = tokens[:limit]
        text = "".join(t.text for t in tokens)
        reasoning, content = split_reasoning(self.style, text) if self.split(body) else (None, text)
        message: dict[str, Any] = {"role": "assistant", "content": content, **self.reasoning_field(reasoning)}
        logprobs = None
        if body.get("logprobs"):
            logprobs = {"content": logprob_entries(tokens, int(body.get("top_logprobs") or 0))}
        return {"index": i, "message": message, "logprobs": logprobs, "finish_reason": finish}, len(tokens)

    def reasoning_field(self, reasoning: str | None) -> dict[str, Any]:
        return {"reasoning_content": reasoning}

    def reply(self, body: dict[str, Any]) -> Any:
        choices, used = [], 0
        for i in range(self.n(body)):
            c, k = self.choice(i, body)
            choices.append(c)
            used += k
        return completion(self.model, choices, self.prompt_tokens(body), used)
