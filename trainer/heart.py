"""Heart-relatedness: one of the seed paper's 14 cardiac themes, with the evidence terms matched.

The lexical classifier is fast and deterministic. It discounts terms that only appear in a
patient's history ("a history of hypertension ... presents with gout"), negated terms ("denies
chest pain"), non-systemic hypertension (portal, intracranial, ocular, pulmonary) and valves of other
organs (a "valve" counts only with a cardiac qualifier). The optional LLM classifier asks the judge
endpoint and keeps only evidence terms that really occur in the question.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

THEMES = (
    "cardiac medications",
    "cardiomyopathy",
    "cardiovascular disease",
    "cardiovascular risk factors",
    "chest pain",
    "congenital heart disease",
    "coronary artery disease",
    "ECG/EKG interpretation",
    "heart attack (MI)",
    "heart failure",
    "heart palpitations",
    "heart rhythm disorders (arrhythmia)",
    "heart valve problems",
    "high blood pressure (hypertension)",
)
GENERIC = "cardiovascular disease"

# (theme, pattern, weight). Specific themes win over the generic one; weights < 1 are supporting evidence.
_TERMS: list[tuple[str, str, float]] = [
    ("heart attack (MI)", r"myocardial infarct\w*|heart attacks?|n?stemi|\bmi\b|transmural infarct\w*", 1.0),
    ("heart attack (MI)", r"troponins?|thromboly\w+|streptokinase", 0.5),
    ("coronary artery disease", r"coronary (?:artery|heart) disease|\bcad\b|ischemic heart disease|angina", 1.0),
    ("coronary artery disease", r"coronary arter\w*|\bcabg\b|\bpci\b|coronary stent\w*|atherosclero\w*", 0.7),
    ("chest pain", r"chest (?:pain|tightness|pressure|discomfort)|retrosternal pain", 1.0),
    ("heart failure", r"heart failure|cardiac failure|\bchf\b|hfref|hfpef|reduced ejection fraction", 1.0),
    ("heart failure", r"ejection fraction|\bbnp\b|nt-probnp|pulmonary oedema|pulmonary edema", 0.5),
    ("cardiomyopathy", r"cardiomyopath\w*|septal hypertrophy|\bhocm\b|takotsubo", 1.0),
    (
        "heart rhythm disorders (arrhythmia)",
        r"arrhythmi\w*|atrial fibrillation|\bafib\b|\ba-?fib\b|atrial flutter|ventricular (?:tachycardia|fibrillation)"
        r"|bradycardi\w*|heart block|av block|long qt|qt prolongation|torsades|wolff-parkinson|\bwpw\b|\bsvt\b"
        r"|supraventricular",
        1.0,
    ),
    (
        "heart palpitations",
        r"palpitations?|heart (?:is )?(?:racing|pounding)|(?:racing|pounding) heart"
        r"|heart ?beat (?:is )?(?:fast|irregular)|(?:high|fast|rapid) heart rate"
        r"|heart rate (?:is |be )?(?:so )?(?:high|fast)",
        1.0,
    ),
    ("heart palpitations", r"tachycardi\w*", 0.7),
    (
        "heart valve problems",
        r"(?:mitral|aortic|tricuspid|pulmonic|pulmonary) (?:valve|stenosis|regurgitation|insufficiency|prolapse)"
        r"|heart valves?|valvular heart|prosthetic (?:heart )?valve|endocarditis",
        1.0,
    ),
    ("heart valve problems", r"murmurs?", 0.7),
    (
        "congenital heart disease",
        r"congenital heart|patent ductus arteriosus|\bpda\b|ventricular septal defect|\bvsd\b|atrial septal defect"
        r"|tetralogy of fallot|coarctation|transposition of the great|eisenmenger|continuous (?:machinery )?murmur",
        1.0,
    ),
    (
        "ECG/EKG interpretation",
        r"\becg\b|\bekg\b|electrocardiogra\w*|st[- ](?:segment )?(?:elevation|depression)|qrs|pr interval|t[- ]waves?",
        1.0,
    ),
    (
        "high blood pressure (hypertension)",
        r"(?<!portal )(?<!intracranial )(?<!ocular )(?<!pulmonary )hypertension|high blood pressure"
        r"|(?:elevated|raised) blood pressure|antihypertensive\w*|hypertensive (?:crisis|emergency|urgency)"
        r"|blood pressure[^.?!]{0,40}?\b(?:1[4-9]\d|2\d\d)\s*/\s*\d{2,3}",
        1.0,
    ),
    (
        "cardiac medications",
        r"beta[- ]?blockers?|ace inhibitors?|angiotensin receptor blockers?|digoxin|amiodarone|nitroglycerin"
        r"|statins?|warfarin|anticoagula\w+|antiplatelet|clopidogrel|metoprolol|labetalol|amlodipine|lisinopril"
        r"|atorvastatin|furosemide|spironolactone|apixaban|rivaroxaban",
        0.5,
    ),
    ("cardiovascular risk factors", r"cardiovascular risk|hyperlipid\w*|dyslipid\w*|hypercholesterol\w*|\bldl\b", 1.0),
    ("cardiovascular risk factors", r"cholesterol", 0.5),
    (
        GENERIC,
        r"cardiovascular disease|heart disease|cardiac arrest|pericarditis|myocarditis|aortic dissection"
        r"|heart problems?|cardiologist",
        1.0,
    ),
    (GENERIC, r"echocardiogra\w*|\bcardiac\b|\bheart\b", 0.5),
]
_COMPILED = [(theme, re.compile(p, re.I), w) for theme, p, w in _TERMS]
_PLEURITIC = re.compile(r"pleuritic\s+$", re.I)
_NEGATION = re.compile(r"\b(?:denies|denied|no|not|without|negative for|absence of|free of)\b[^.;,]{0,25}$", re.I)
_HISTORY = re.compile(
    r"\b(?:(?:family |past medical )?history of|h/o|known|pmh(?: of| significant for)?|background of"
    r"|comorbidit(?:y|ies)(?: of| including)?)\b[^.;]*?(?=\bpresents?\b|\bis (?:brought|admitted|seen)\b|\.|;|$)",
    re.I,
)
HISTORY_WEIGHT = 0.25


@dataclass(frozen=True)
class HeartLabel:
    heart_related: bool
    theme: str | None
    evidence: tuple[str, ...]
    scores: dict[str, float] = field(default_factory=dict)
    method: str = "lexical"


def _history_spans(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _HISTORY.finditer(text)]


def classify_lexical(text: str, *, threshold: float = 1.0) -> HeartLabel:
    """Heart-related when the weighted, context-discounted evidence reaches `threshold`."""
    spans = _history_spans(text)
    scores: dict[str, float] = {}
    evidence: list[str] = []
    for theme, pattern, weight in _COMPILED:
        for m in pattern.finditer(text):
            before = text[max(0, m.start() - 40) : m.start()]
            if _NEGATION.search(before):
                continue
            w = weight
            if theme == "chest pain" and _PLEURITIC.search(before):
                w = 0.3
            if any(a <= m.start() < b for a, b in spans):
                w *= HISTORY_WEIGHT
            scores[theme] = scores.get(theme, 0.0) + w
            term = m.group(0)
            if term.lower() not in (e.lower() for e in evidence):
                evidence.append(term)
    total = sum(scores.values())
    related = total >= threshold
    theme = pick_theme(scores) if related else None
    return HeartLabel(related, theme, tuple(evidence) if related else (), scores)


def pick_theme(scores: dict[str, float]) -> str:
    specific = {t: s for t, s in scores.items() if t != GENERIC}
    if specific and max(specific.values()) >= 0.5:
        return max(specific, key=lambda t: (specific[t], -THEMES.index(t)))
    return GENERIC


# ---------------------------------------------------------------- LLM classifier

LLM_SYSTEM = (
    "You label medical questions for a cardiology dataset. Decide whether the question is about the "
    "heart or circulation as its main clinical topic (a heart condition that is only part of the "
    "patient's background does not count). If it is, pick exactly one theme from the list. Quote the "
    "exact words of the question that support your decision as evidence. Reply with only a JSON object: "
    '{"heart_related": true|false, "theme": "<theme or null>", "evidence": ["<quoted words>", ...]}'
)


def llm_messages(question: str) -> list[dict[str, str]]:
    themes = "\n".join(f"- {t}" for t in THEMES)
    return [
        {"role": "system", "content": LLM_SYSTEM},
        {"role": "user", "content": f"Themes:\n{themes}\n\nQuestion:\n{question}"},
    ]


def verify_llm_label(question: str, reply: str | None) -> HeartLabel | None:
    """Keep only evidence quoted from the question; no verified evidence means not heart-related."""
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

    def __call__(self, question: str) -> HeartLabel:
        try:
            reply = self.client.chat.completions.create(
                model=self.model, messages=llm_messages(question), temperature=0.0, max_tokens=256
            )
            label = verify_llm_label(question, reply.choices[0].message.content)
        except Exception as e:  # the endpoint failed: say so in the label's method
            lexical = classify_lexical(question)
            return HeartLabel(
                lexical.heart_related,
                lexical.theme,
                lexical.evidence,
                lexical.scores,
                f"lexical (llm failed: {type(e).__name__})",
            )
        if label is None:
            lexical = classify_lexical(question)
            return HeartLabel(
                lexical.heart_related, lexical.theme, lexical.evidence, lexical.scores, "lexical (llm unparseable)"
            )
        return label


def theme_counts(labels: Iterable[HeartLabel]) -> dict[str, int]:
    counts = {t: 0 for t in THEMES}
    for lab in labels:
        if lab.heart_related and lab.theme:
            counts[lab.theme] += 1
    return counts
