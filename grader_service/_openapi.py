"""The OpenAPI document says exactly what the service accepts.

Pydantic models describe field types; two things they cannot say are added here: `/v1/grade`'s
scheme-dependent parts (each scheme's parameters, with their bounds, and the rule that the points-based
schemes need a criterion with positive points) as a `oneOf` over schemes, and the shapes
`/v1/rubrics/validate` takes besides its wrapper (a bare list of items, a raw record).
"""

from __future__ import annotations

from typing import Any

from grader_service.judge.families import FAMILY_NAMES
from grader_service.schemes import SCHEMES
from shared import MAX_POINTS

_NEEDS_POSITIVE = ("healthbench", "hybrid", "complexity")
_POSITIVE = {"type": "object", "required": ["points"], "properties": {"points": {"exclusiveMinimum": 0}}}
_NON_ZERO = {"type": "object", "required": ["points"], "properties": {"points": {"not": {"const": 0}}}}

_TEXT = {"type": "string", "minLength": 1, "maxLength": 20000, "pattern": r"\S"}
_POINTS = {"type": "number", "minimum": -MAX_POINTS, "maximum": MAX_POINTS}
_OUR_ITEM = {
    "type": "object",
    "required": ["criterion", "points"],
    "properties": {
        "criterion": _TEXT,
        "points": _POINTS,
        "category": {"anyOf": [{"enum": ["essential", "important", "optional", "pitfall"]}, {"type": "null"}]},
        "id": {"anyOf": [{"type": "string", "maxLength": 256}, {"type": "null"}]},
        "tags": {
            "anyOf": [
                {"type": "array", "maxItems": 64, "items": {"type": "string", "maxLength": 256}},
                {"type": "null"},
            ]
        },
        "title": {"anyOf": [{"type": "string", "maxLength": 256}, {"type": "null"}]},
    },
}
_RAR_ITEM = {
    "type": "object",
    "required": ["description", "weight"],
    "properties": {
        "description": _TEXT,
        "weight": _POINTS,
        "title": {"anyOf": [{"type": "string", "maxLength": 256}, {"type": "null"}]},
    },
}
_ITEMS = {"type": "array", "minItems": 1, "maxItems": 1024, "items": {"anyOf": [_OUR_ITEM, _RAR_ITEM]}}
_RAW_RECORD = {
    "type": "object",
    "description": "a raw record: RaR-Medicine (`rubric` of description/weight items) or HealthBench / the "
    "seed paper's heart subset (`rubrics` of criterion/points items)",
    "anyOf": [
        {"required": ["rubric"], "properties": {"rubric": {**_ITEMS, "items": _RAR_ITEM}}},
        {
            "required": ["rubrics"],
            "not": {"required": ["rubric"]},
            "properties": {"rubrics": {**_ITEMS, "items": _OUR_ITEM}},
        },
    ],
}
VALIDATE_BODY = {
    "description": 'a rubric (`{"rubric": [...]}` or the bare list) or a record (`{"record": {...}}` or the raw '
    "record itself) in any supported format",
    "anyOf": [
        {
            "type": "object",
            "required": ["rubric"],
            "additionalProperties": False,
            "properties": {"rubric": _ITEMS},
            "title": "RubricBody",
        },
        {
            "type": "object",
            "required": ["record"],
            "additionalProperties": False,
            "properties": {"record": _RAW_RECORD},
            "title": "RecordBody",
        },
        {**_ITEMS, "title": "BareRubric"},
        {**_RAW_RECORD, "not": {"anyOf": [{"required": ["record"]}]}, "title": "RawRecord"},
    ],
}


def _scheme_branch(name: str, *, explicit: bool) -> dict[str, Any]:
    params = SCHEMES[name].params.model_json_schema()
    params.pop("title", None)
    branch: dict[str, Any] = {"properties": {"scheme_params": params}}
    if explicit:
        branch["required"] = ["scheme"]
        branch["properties"]["scheme"] = {"const": name}
    else:  # no `scheme`: the default, hybrid
        branch["not"] = {"required": ["scheme"]}
    rule = _POSITIVE if name in _NEEDS_POSITIVE else _NON_ZERO if name == "rar_explicit" else None
    if rule is not None:
        branch["properties"]["items"] = {"items": {"properties": {"rubric": {"contains": rule}}}}
    return branch


def patch(spec: dict[str, Any]) -> dict[str, Any]:
    schemas = spec["components"]["schemas"]
    grade = schemas["GradeRequest"]
    grade["oneOf"] = [_scheme_branch(n, explicit=True) for n in SCHEMES] + [_scheme_branch("hybrid", explicit=False)]
    grade["description"] = (
        "Per scheme: its own `scheme_params` (GET /v1/schemes), and for healthbench, hybrid and complexity at "
        "least one criterion with positive points in every item's rubric."
    )
    family = schemas["JudgeOptions"]["properties"]["family"]
    family["anyOf"] = [{"type": "string", "enum": list(FAMILY_NAMES)}, {"type": "null"}]
    body = spec["paths"]["/v1/rubrics/validate"]["post"]["requestBody"]["content"]["application/json"]
    body["schema"] = VALIDATE_BODY
    return spec
