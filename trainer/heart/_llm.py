"""The LLM heart classifier: the judge endpoint labels the question; its evidence must be quoted from it."""

from __future__ import annotations

import json
import re
from typing import Any

from trainer.heart._lexical import ANSWER_CHARS, HeartLabel, classify_lexical
from trainer.heart._themes import THEMES

LLM_SYSTEM = (
    "You label medical questions for a cardiology dataset, following a written guide. A question is "
    "heart-related when what it asks is about the heart or the circulation: its final question, its answer "
    "options, and what the right answer turns on (a cardiac diagnosis, cardiac physiology, a cardiovascular "
    "drug's use or harm, hypertension or blood lipids as the topic, the aorta or peripheral arteries). It is "
    "NOT heart-related when cardiac words only appear in the background: vital signs (a blood pressure of "
    "150/90, a pulse of 110), a past history of hypertension or infarction, a cardiac drug in a medication "
    "list, an ECG or murmur mentioned in passing, or heart disease as one distractor among non-cardiac "
    "options. Venous thrombosis, pulmonary embolism, stroke and vasculitis are not heart-related unless the "
    "heart is what is asked about. If heart-related, pick exactly one theme from the list. Quote the exact "
    "words of the question that support your decision as evidence. Reply with only a JSON object: "
    '{"heart_related": true|false, "theme": "<theme or null>", "evidence": ["<quoted words>", ...]}'
)


def llm_messages(question: str, answer: str | None = None) -> list[dict[str, str]]:
    themes = "\n".join(f"- {t}" for t in THEMES)
    user = f"Themes:\n{themes}\n\nQuestion:\n{question}"
    if answer:
        user += f"\n\nThe right answer:\n{answer[:ANSWER_CHARS]}"
    return [{"role": "system", "content": LLM_SYSTEM}, {"role": "user", "content": user}]


def verify_llm_label(question: str, reply: str | None) -> HeartLabel | None:
    """Keep only evidence quoted from the question (and its answer, when given: pass them joined);
    no verified evidence means not heart-related."""
    if not reply:
        return None
    m = re.search(r"\{.*\}", reply, re.S)
    if not m:
        return None
    try:
        obj: dict[str, Any] = json.loads(m.group(0))
    except json.JSONDecodeError:
        return None
    lower = question.lower()
    raw = obj.get("evidence") or []
    evidence = tuple(e for e in raw if isinstance(e, str) and e.strip() and e.strip().lower() in lower)
    theme = obj.get("theme") if obj.get("theme") in THEMES else None
    related = bool(obj.get("heart_related")) and bool(evidence) and theme is not None
    return HeartLabel(related, theme if related else None, evidence if related else (), method="llm")


class LLMClassifier:
    """Labels through the same OpenAI-compatible endpoint as the judge; falls back to lexical on failure."""

    def __init__(self, base_url: str, model: str, api_key: str | None = None, timeout_s: float = 60.0) -> None:
        from openai import OpenAI

        self.client = OpenAI(base_url=base_url, api_key=api_key or "EMPTY", timeout=timeout_s, max_retries=2)
        self.model = model

    def __call__(self, question: str, *, answer: str | None = None) -> HeartLabel:
        try:
            reply = self.client.chat.completions.create(
                model=self.model, messages=llm_messages(question, answer), temperature=0.0, max_tokens=256
            )
            quotable = question + ("\n" + answer[:ANSWER_CHARS] if answer else "")
            label = verify_llm_label(quotable, reply.choices[0].message.content)
        except Exception as e:  # the endpoint failed: say so in the label's method
            lexical = classify_lexical(question, answer=answer)
            return HeartLabel(
                lexical.heart_related,
                lexical.theme,
                lexical.evidence,
                lexical.scores,
                f"lexical (llm failed: {type(e).__name__})",
            )
        if label is None:
            lexical = classify_lexical(question, answer=answer)
            return HeartLabel(
                lexical.heart_related, lexical.theme, lexical.evidence, lexical.scores, "lexical (llm unparseable)"
            )
        return label
