"""The offline heart classifier: cardiac terms, weighted by where in the question they stand."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from trainer.heart._parts import OPTIONS, Span, spans, weight_at
from trainer.heart._themes import COMPILED, GENERIC, THEMES

_PLEURITIC = re.compile(r"pleuritic\s+$", re.I)
_PLEURITIC_AFTER = re.compile(
    r"^[^.;]{0,40}\b(?:worse (?:with|on) (?:inspiration|deep breath\w*|breathing)|pleuritic)", re.I
)
_NEGATION = re.compile(r"\b(?:denies|denied|no|not|without|negative for|absence of|free of)\b[^.;,]{0,25}$", re.I)
# biostatistics set in a cardiology trial asks about the statistics, not the heart (labelling guide)
_STATISTICS = re.compile(
    r"p[- ]values?|chi[- ]square|analysis of variance|\banova\b|confidence intervals?|statistically significant"
    r"|kaplan[- ]meier|pearson|t[- ]test|odds ratios?|relative risk|number needed to (?:treat|harm)"
    r"|positive predictive|negative predictive|sensitivity|specificity|type (?:i|ii|1|2) error|null hypothesis"
    r"|(?:cohort|case[- ]control|cross[- ]sectional) stud(?:y|ies)|attributable risk|hazard ratios?|statistical power",
    re.I,
)
STATISTICS_DISCOUNT = 0.3
_OPTION_START = re.compile(r"^\s*(?:\(?[A-Ea-e][.):]|[A-E]\s*[-–])\s+", re.M)


@dataclass(frozen=True)
class HeartLabel:
    heart_related: bool
    theme: str | None
    evidence: tuple[str, ...]
    scores: dict[str, float] = field(default_factory=dict)
    method: str = "lexical"


def _option_of(text: str, pos: int) -> int:
    """Index of the option line holding `pos` (options count once each, however many terms they hold)."""
    return sum(1 for m in _OPTION_START.finditer(text, 0, pos + 1) if m.start() <= pos)


THRESHOLD = 0.8  # maximises F1 on the 1,000 labelled questions that were used to write the rules
ANSWER = 1.0  # the right answer is what the question turns on: its terms count like the ask's
ANSWER_CHARS = 300
_FIRST_SENTENCE = re.compile(r"^.*?[.?!](?=\s+[A-Z(]|\s*$)", re.S)


def answer_opening(answer: str) -> str:
    """A reference explanation names its answer first, then walks through the differential: keep its first
    sentence (an exam option is one already)."""
    head = answer.strip()[:ANSWER_CHARS]
    m = _FIRST_SENTENCE.match(head)
    return m.group(0) if m else head


def classify_lexical(text: str, *, answer: str | None = None, threshold: float = THRESHOLD) -> HeartLabel:
    """Heart-related when the position-weighted, context-discounted evidence reaches `threshold`.

    `answer`, where the record has one (an exam's correct option, a reference answer), counts like the
    question's ask: "which is the most likely diagnosis?" is about the heart when the answer is tamponade.
    """
    scores, evidence = _scores(text)
    if answer and answer.strip().lower() not in ("yes", "no", "maybe"):
        answer_scores, answer_evidence = _scores(answer_opening(answer))
        for theme, v in answer_scores.items():
            scores[theme] = scores.get(theme, 0.0) + ANSWER * v
        for term in answer_evidence:
            _add(evidence, term)
    if _asks_statistics(text, spans(text)):
        scores = {t: v * STATISTICS_DISCOUNT for t, v in scores.items()}
    total = sum(scores.values())
    related = total >= threshold
    theme = pick_theme(scores) if related else None
    return HeartLabel(related, theme, tuple(evidence) if related else (), {k: round(v, 3) for k, v in scores.items()})


def _scores(text: str) -> tuple[dict[str, float], list[str]]:
    """Per-theme evidence in one text, and the terms that carried it."""
    layout = spans(text)
    scores: dict[str, float] = {}
    evidence: list[str] = []
    seen: set[tuple[str, str, int]] = set()
    option_best: dict[int, tuple[str, float]] = {}
    for theme, pattern, weight in COMPILED:
        for m in pattern.finditer(text):
            before = text[max(0, m.start() - 40) : m.start()]
            if _NEGATION.search(before):
                continue
            position, part = weight_at(layout, m.start())
            if position == 0.0:
                continue
            w = weight
            if theme == "chest pain" and (_PLEURITIC.search(before) or _PLEURITIC_AFTER.search(text[m.end() :])):
                w = 0.3
            term = m.group(0).lower()
            if part == "options":
                k = _option_of(text, m.start())
                if w > option_best.get(k, ("", 0.0))[1]:
                    option_best[k] = (theme, w)
                _add(evidence, m.group(0))
                continue
            key = (term, part, 0)
            if key in seen:  # a term repeated in the same part says nothing new
                continue
            seen.add(key)
            scores[theme] = scores.get(theme, 0.0) + w * position
            if w * position >= 0.25:
                _add(evidence, m.group(0))
    for theme, w in option_best.values():  # each cardiac option: what the answer may turn on
        scores[theme] = scores.get(theme, 0.0) + (OPTIONS if w >= 0.7 else OPTIONS / 2)
    return scores, evidence


def _asks_statistics(text: str, layout: list[Span]) -> bool:
    """Two or more statistics terms where the question asks or in its options."""
    asked = "".join(text[sp.start : sp.end] for sp in layout if sp.part in ("ask", "options"))
    return len(_STATISTICS.findall(asked)) >= 2


def _add(evidence: list[str], term: str) -> None:
    if term.lower() not in (e.lower() for e in evidence):
        evidence.append(term)


# Themes that name a means or a sign rather than a condition yield to a condition found beside them.
_SECONDARY = ("cardiac medications", "chest pain", "heart palpitations", "ECG/EKG interpretation")


def pick_theme(scores: dict[str, float]) -> str:
    specific = {t: s for t, s in scores.items() if t != GENERIC and s >= 0.45}
    if not specific:
        return GENERIC
    conditions = {t: s for t, s in specific.items() if t not in _SECONDARY}
    pool = conditions or specific
    best = max(pool, key=lambda t: (pool[t], -THEMES.index(t)))
    if scores.get(GENERIC, 0.0) >= 1.5 * pool[best]:
        return GENERIC
    return best
