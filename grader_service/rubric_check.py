"""`/v1/rubrics/validate`: normalise a rubric or record and warn about likely authoring mistakes."""

from __future__ import annotations

import re
from collections import Counter

from shared import (
    Category,
    Criterion,
    RubricFormatError,
    RubricValidationRequest,
    RubricValidationResponse,
    detect_format,
    load_rubric,
    rubric_from_record,
)

# Pitfalls written as what a good response does ("Avoids ...", "Does not recommend ...", RaR-Medicine's most
# common phrasing): the judge is asked whether the response shows the fault, so such a text can invert the sign.
_AVOIDANCE = re.compile(
    r"^\s*(?:pitfall criteri(?:a|on)\s*:\s*)?"
    r"(?:avoids?|does\s+not|doesn'?t|do\s+not|never|refrains?\s+from|is\s+not)\b",
    re.I,
)


class RubricInvalid(ValueError):
    def __init__(self, loc: list[str | int], msg: str) -> None:
        super().__init__(msg)
        self.loc = loc
        self.msg = msg


def check_rubric(req: RubricValidationRequest) -> RubricValidationResponse:
    field = "record" if req.record is not None else "rubric"
    try:
        if req.record is not None:
            fmt = detect_format(req.record)
            criteria = rubric_from_record(req.record)
        else:
            fmt = "items"
            criteria = load_rubric(req.rubric)
    except RubricFormatError as e:
        raise RubricInvalid(["body", field, *e.loc], e.msg) from e
    return summarise(criteria, fmt)


def summarise(criteria: list[Criterion], fmt: str) -> RubricValidationResponse:
    warnings = []
    pos = sum(c.points for c in criteria if c.points > 0)
    neg = sum(c.points for c in criteria if c.points < 0)
    if pos <= 0:
        warnings.append("no criterion has positive points: healthbench, hybrid and complexity cannot score it")
    for i, c in enumerate(criteria):
        if c.category is Category.pitfall and c.points > 0:
            warnings.append(f"criterion {i} is labelled a pitfall but has positive points: meeting it earns reward")
        if c.category in (Category.essential, Category.important, Category.optional) and c.points < 0:
            warnings.append(f"criterion {i} is labelled {c.category.value} but has negative points")
        if c.points < 0 and (m := _AVOIDANCE.match(c.criterion)):
            phrase = " ".join(m.group(0).split()[-2:]).strip(" :")
            warnings.append(
                f"criterion {i} is a pitfall phrased as avoidance ('{phrase} ...'): the judge is asked whether the "
                "response shows it, and meeting it is penalised; if the text describes what a good response does, "
                "rewrite it as the fault (e.g. 'Recommends steroids') or check the sign"
            )
    counts = Counter(c.category.value if c.category else "none" for c in criteria)
    return RubricValidationResponse(
        valid=pos > 0,
        format=fmt,
        criteria=criteria,
        positive_points=pos,
        negative_points=neg,
        categories=dict(counts),
        warnings=warnings,
    )
