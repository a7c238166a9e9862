"""`/v1/rubrics/validate`: normalise a rubric or record and warn about likely authoring mistakes."""

from __future__ import annotations

from collections import Counter

from grader_service.pitfalls import reading
from shared import (
    Category,
    Criterion,
    PitfallReading,
    Polarity,
    RubricFormatError,
    RubricValidationRequest,
    RubricValidationResponse,
    detect_format,
    load_rubric,
    rubric_from_record,
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
    pitfalls: list[PitfallReading] = []
    pos = sum(c.points for c in criteria if c.points > 0)
    neg = sum(c.points for c in criteria if c.points < 0)
    if pos <= 0:
        warnings.append("no criterion has positive points: healthbench, hybrid and complexity cannot score it")
    for i, c in enumerate(criteria):
        if c.category is Category.pitfall and c.points > 0:
            warnings.append(f"criterion {i} is labelled a pitfall but has positive points: meeting it earns reward")
        if c.category in (Category.essential, Category.important, Category.optional) and c.points < 0:
            warnings.append(f"criterion {i} is labelled {c.category.value} but has negative points")
        if c.points < 0:
            polarity, source = reading(c)
            pitfalls.append(PitfallReading(index=i, polarity=polarity, source=source))
            if polarity is Polarity.avoid:
                warnings.append(
                    f"criterion {i} is a pitfall phrased as avoidance of the error (met = the response avoided it; "
                    f"{source}): pitfall_polarity=auto penalises it when not met, 'literal' would invert its sign"
                )
            elif polarity is Polarity.ambiguous:
                warnings.append(
                    f"criterion {i} is a pitfall whose wording does not say whether meeting it is the error "
                    f"({source}): it is scored literally (penalised when met); rewrite it as the fault or set its "
                    "`polarity`"
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
        pitfalls=pitfalls,
    )
