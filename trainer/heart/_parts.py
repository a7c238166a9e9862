"""Where a term stands in a question decides how much it says about the question's topic.

An exam vignette carries vital signs, a medical history and a medication list whatever it is about; what
it is about is in what it asks (its last sentence), in its options and in the complaint it opens with.
So the text is cut into weighted spans: the ask and a short question count fully, the opening sentence
mostly, the rest of the stem little, and vital signs, medication lists and history nothing.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

ASK, OPTIONS, OPENING, BODY = 1.0, 0.45, 0.6, 0.3
HISTORY = 0.1
SHORT_QUESTION_CHARS = 260  # a question this short is all ask (a patient's message, a research question)

_OPTION_LINE = re.compile(r"^\s*(?:\(?[A-Ea-e][.):]|[A-E]\s*[-–])\s+\S", re.M)
_SENTENCE_END = re.compile(r"(?<=[.?!])[\"”']?\s+(?=[A-Z\"“(])")
_MASKS = [
    # vital signs: "blood pressure is 150/90 mm Hg", "pulse 110/min", "heart rate is 98/min"
    re.compile(
        r"\b(?:blood pressure|bp|pulse(?: rate)?|heart rate|hr)\b[^.;]{0,25}?\d{2,3}(?:\s*/\s*\d{2,3})?"
        r"(?:\s*(?:mm ?hg|/min|bpm|beats(?: per minute|/min)?))?",
        re.I,
    ),
    re.compile(r"\bvital signs?\b[^.;]*", re.I),
    # medication lists: "Current medications include atorvastatin, lisinopril and ..."
    re.compile(
        r"\b(?:current )?medications? (?:include|includes|are|consist of|list)\b[^.]*"
        r"|\b(?:takes|is taking|has been taking|is on|was started on)\b[^.]*",
        re.I,
    ),
    # normal cardiac examination
    re.compile(
        r"\b(?:cardiac|heart|cardiovascular|cardiopulmonary)(?: and (?:lung|pulmonary))?"
        r" (?:exam\w*|auscultation|sounds?)"
        r"[^.;]{0,40}?(?:normal|unremarkable|no abnormalit\w+|regular rate and rhythm|without murmurs?)",
        re.I,
    ),
]
_HISTORY_END = (
    r"[^.;]*?(?=\bpresents?\b|\bcomes\b|\breturns\b|\bvisits\b|\bis (?:brought|admitted|seen|evaluated)\b|\.|;|$)"
)
_HISTORY_EXPLICIT = re.compile(
    r"\b(?:(?:family |past medical |medical )?history (?:of|includes?|(?:is )?(?:significant|notable|remarkable) for)"
    r"|h/o|known|pmh(?: of| significant for)?|background of|comorbidit(?:y|ies)(?: of| including)?"
    r"|(?:he|she) has (?:a (?:\d+-year )?history of )?)\b" + _HISTORY_END,
    re.I,
)
# in a vignette's opening, "a 64-year-old man with hypertension and CAD comes to ..." is background too
_HISTORY = re.compile(
    _HISTORY_EXPLICIT.pattern + r"|\b(?:man|woman|male|female|boy|girl|patient) with\b" + _HISTORY_END, re.I
)


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    weight: float
    part: str


def spans(text: str) -> list[Span]:
    """Weighted spans covering the text; later spans in the list override earlier ones."""
    out: list[Span] = []
    first_option = _OPTION_LINE.search(text)
    stem_end = first_option.start() if first_option else len(text)
    stem = text[:stem_end].rstrip()
    if first_option:
        out.append(Span(stem_end, len(text), OPTIONS, "options"))
    if len(stem) <= SHORT_QUESTION_CHARS:
        out.append(Span(0, len(stem), ASK, "ask"))
        for m in _HISTORY_EXPLICIT.finditer(stem):  # "a history of hypertension" is background even here
            out.append(Span(m.start(), m.end(), HISTORY, "history"))
        return out
    cuts = [0] + [m.end() for m in _SENTENCE_END.finditer(stem)] + [len(stem)]
    sentences = [(a, b) for a, b in itertools.pairwise(cuts) if stem[a:b].strip()]
    asks = [i for i, (a, b) in enumerate(sentences) if "?" in stem[a:b]]
    ask_from = asks[-1] if asks else len(sentences) - 1
    out.append(Span(0, len(stem), BODY, "body"))
    out.append(Span(sentences[0][0], sentences[0][1], OPENING, "opening"))
    for m in _HISTORY.finditer(stem):
        out.append(Span(m.start(), m.end(), HISTORY, "history"))
    out.append(Span(sentences[ask_from][0], len(stem), ASK, "ask"))
    for mask in _MASKS:
        for m in mask.finditer(stem):
            if m.start() < sentences[ask_from][0]:  # what the question asks is never masked
                out.append(Span(m.start(), min(m.end(), sentences[ask_from][0]), 0.0, "masked"))
    return out


def weight_at(spans_: list[Span], pos: int) -> tuple[float, str]:
    for s in reversed(spans_):
        if s.start <= pos < s.end:
            return s.weight, s.part
    return BODY, "body"
