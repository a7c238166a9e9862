"""Finding the judge's final answer: after its reasoning, never inside it.

Thinking models write their reasoning before the answer, inline (`<think> ... </think>`, DeepSeek-R1
distills that start inside the block, gpt-oss's harmony channels) or split off by the server
(`reasoning_content`). The reasoning routinely quotes our own instructions ("output {"met": false}
if ...") and says YES and NO many times, so a verdict or a probability is only ever read from the
final answer. A reasoning block that never closed means the reply was cut off before its answer.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from grader_service.judge._wire import TokenLogprob

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
HARMONY_FINAL = "<|channel|>final<|message|>"
HARMONY_START = "<|channel|>"
_HARMONY_TAIL = re.compile(r"(<\|(?:return|end|call)\|>)+\s*$")


@dataclass(frozen=True, slots=True)
class Answer:
    final: str  # the text after any reasoning, stripped
    reasoned: bool  # the reply contained reasoning (inline or split off by the server)
    closed: bool  # False: the reasoning never ended, so there is no answer in this reply


def split_answer(content: str, reasoning: str = "", *, implicit_open: bool = False) -> Answer:
    """The final answer of one reply.

    `implicit_open`: the chat template already opened the reasoning block (DeepSeek-R1 distills), so
    a reply with no closing tag is all reasoning.
    """
    if HARMONY_START in content:  # gpt-oss served raw: analysis channel(s), then the final channel
        i = content.rfind(HARMONY_FINAL)
        if i < 0:
            return Answer("", True, False)
        return Answer(_HARMONY_TAIL.sub("", content[i + len(HARMONY_FINAL) :]).strip(), True, True)
    j = content.rfind(THINK_CLOSE)
    if j >= 0:
        return Answer(content[j + len(THINK_CLOSE) :].strip(), True, True)
    k = content.find(THINK_OPEN)
    if k >= 0:  # opened, never closed
        return Answer(content[:k].strip(), True, False)
    if implicit_open and not reasoning:
        return Answer("", bool(content.strip()), not content.strip())
    return Answer(content.strip(), bool(reasoning.strip()), True)


def starts_reasoning(content: str, reasoning: str) -> bool:
    """Whether a reply (typically one cut off early) began with reasoning."""
    head = content.lstrip()
    return bool(reasoning.strip()) or head.startswith((THINK_OPEN, HARMONY_START))


def norm_token(token: str) -> str:
    return re.sub(r"[^a-z0-9]", "", token.lower())


def answer_position(tokens: Sequence[TokenLogprob], final: str) -> int | None:
    """Index of the first answer token: where the final answer's text ends the token stream.

    Servers differ in what the logprobs cover (SGLang and vLLM include the reasoning and its marker
    tokens even when they split the text off; OpenAI covers the content only), so the position is
    found by aligning the final text with the tail of the token text, not by counting from 0.
    """
    target = final.strip()
    if not target or not tokens:
        return None
    joined = "".join(t.token for t in tokens)
    at = joined.rfind(target)
    if at < 0:
        first = target.split()[0]
        at = joined.rfind(first)
        if at < 0:
            return None
    offset = 0
    for i, t in enumerate(tokens):
        end = offset + len(t.token)
        if end > at:
            # the first token with a letter or digit from here on: "**", spaces and newlines are not the answer
            for j in range(i, len(tokens)):
                if norm_token(tokens[j].token):
                    return j
            return None
        offset = end
    return None


@dataclass(frozen=True, slots=True)
class YesNo:
    p_yes: float  # P(yes) / (P(yes) + P(no))
    mass: float  # P(yes) + P(no): how much of the probability the two answers hold


def yes_no(alternatives: Iterable[tuple[str, float]]) -> YesNo | None:
    """YES/NO probabilities at one position; None when neither answer is among the alternatives."""
    p_yes = p_no = 0.0
    for token, logprob in alternatives:
        t = norm_token(token)
        if t == "yes":
            p_yes += math.exp(logprob)
        elif t == "no":
            p_no += math.exp(logprob)
    total = p_yes + p_no
    if total <= 0:
        return None
    return YesNo(p_yes / total, min(total, 1.0))


def alternatives(entry: TokenLogprob) -> list[tuple[str, float]]:
    """The alternatives at one position, with the sampled token added when the server left it out."""
    alts = list(entry.top)
    if not any(t == entry.token for t, _ in alts):
        alts.append((entry.token, entry.logprob))
    return alts
