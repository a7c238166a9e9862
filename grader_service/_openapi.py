"""The OpenAPI document says exactly what the service accepts.

Pydantic models describe field types; two things they cannot say are added here: `/v1/grade`'s
scheme-dependent parts (each scheme's parameters, with their bounds, and the rule that the points-based
schemes need a criterion with positive points) as a `oneOf` over schemes, for the main scheme and each
of `extra_schemes`, and the shapes
`/v1/rubrics/validate` takes besides its wrapper (a bare list of items, a raw record).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from grader_service.judge.families import FAMILY_NAMES
from grader_service.schemes import SCHEMES
from shared import MAX_POINTS
from shared._rubrics import MAX_TITLE_CHARS

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
        "title": {"anyOf": [{"type": "string", "maxLength": MAX_TITLE_CHARS}, {"type": "null"}]},
    },
}
_RAR_ITEM = {
    "type": "object",
    "required": ["description", "weight"],
    "properties": {
        "description": _TEXT,
        "weight": _POINTS,
        "title": {"anyOf": [{"type": "string", "maxLength": MAX_TITLE_CHARS}, {"type": "null"}]},
    },
}
_ITEMS = {"type": "array", "minItems": 1, "maxItems": 1024, "items": {"anyOf": [_OUR_ITEM, _RAR_ITEM]}}
_RAW_RECORD = {
    "type": "object",
    "description": "a raw record: RaR-Medicine (`rubric` of description/weight items) or HealthBench / the "
    "seed paper's heart subset (`rubrics` of criterion/points items)",
    "anyOf": [
        {"required": ["rubric"], "properties": {"rubric": _ITEMS}},  # the loader reads either item shape
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
    branch: dict[str, Any] = {"properties": {"scheme_params": _params_schema(name)}}
    if explicit:
        branch["required"] = ["scheme"]
        branch["properties"]["scheme"] = {"const": name}
    else:  # no `scheme`: the default, hybrid
        branch["not"] = {"required": ["scheme"]}
    if not SCHEMES[name].per_criterion:  # no verdicts to score other schemes from
        branch["properties"]["extra_schemes"] = {"maxItems": 0}
    rule = _POSITIVE if name in _NEEDS_POSITIVE else _NON_ZERO if name == "rar_explicit" else None
    if rule is not None:
        branch["properties"]["items"] = {"items": {"properties": {"rubric": {"contains": rule}}}}
    return branch


_PER_CRITERION = [n for n, s in SCHEMES.items() if s.per_criterion]


def _params_schema(name: str) -> dict[str, Any]:
    params = SCHEMES[name].params.model_json_schema()
    params.pop("title", None)
    return params


def _scheme_spec(generated: dict[str, Any]) -> dict[str, Any]:
    """A scheme name, or an object whose `scheme_params` are that scheme's."""
    name = generated["properties"]["name"]
    objects = [
        {
            "type": "object",
            "required": ["scheme"],
            "additionalProperties": False,
            "properties": {"scheme": {"const": n}, "scheme_params": _params_schema(n), "name": name},
        }
        for n in _PER_CRITERION
    ]
    return {
        "title": "SchemeSpec",
        "description": generated.get("description", ""),
        "oneOf": [{"type": "string", "enum": _PER_CRITERION}, *objects],
    }


def _extra_rubric_rule(names: list[str], rule: dict[str, Any]) -> dict[str, Any]:
    """When an extra scheme needs it, every rubric must satisfy that scheme's rule too."""
    named = {
        "anyOf": [
            {"enum": names},
            {"type": "object", "required": ["scheme"], "properties": {"scheme": {"enum": names}}},
        ]
    }
    return {
        "if": {"required": ["extra_schemes"], "properties": {"extra_schemes": {"contains": named}}},
        "then": {"properties": {"items": {"items": {"properties": {"rubric": {"contains": rule}}}}}},
    }


def _allowed_object(paths: list[str]) -> dict[str, Any]:
    """The JSON Schema of an `extra_body` the allowlist accepts: listed keys, dotted paths as nested objects."""
    props: dict[str, Any] = {}
    nested: dict[str, list[str]] = {}
    for path in paths:
        head, _, rest = path.partition(".")
        if rest:
            nested.setdefault(head, []).append(rest)
        else:
            props[head] = {}
    for head, rests in nested.items():
        if head not in props:
            props[head] = _allowed_object(rests)
    return {"type": "object", "properties": props, "additionalProperties": False}


def _judge_policy(options: dict[str, Any], policy: JudgePolicy) -> None:
    """What this grader's owner lets a request change (grader_service.policy), stated in the schema."""
    props = options["properties"]
    models = [policy.model, *[m for m in policy.allowed_models if m != policy.model]]
    props["model"] = {"anyOf": [{"type": "string", "enum": models}, {"type": "null"}], "description": (
        "the judge model: this grader's own, or one its owner lists (GRADER_JUDGE_ALLOWED_MODELS)"
    )}  # fmt: skip
    extra = _allowed_object(policy.extra_body_allow)
    extra["description"] = props["extra_body"].get("description", "") + (
        "; only the keys this grader's owner allows (GRADER_JUDGE_EXTRA_BODY_ALLOW)"
    )
    props["extra_body"] = {"anyOf": [extra, {"type": "null"}]}
    if not policy.custom_template:
        props["custom_template"] = {"type": "null", "description": "this grader takes no judge prompt from requests"}


@dataclass(frozen=True)
class JudgePolicy:
    model: str
    allowed_models: list[str]
    extra_body_allow: list[str]
    custom_template: bool


def patch(spec: dict[str, Any], policy: JudgePolicy | None = None) -> dict[str, Any]:
    schemas = spec["components"]["schemas"]
    if policy is not None:
        _judge_policy(schemas["JudgeOptions"], policy)
    schemas["SchemeSpec"] = _scheme_spec(schemas["SchemeSpec"])
    grade = schemas["GradeRequest"]
    grade["oneOf"] = [_scheme_branch(n, explicit=True) for n in SCHEMES] + [_scheme_branch("hybrid", explicit=False)]
    grade["allOf"] = [
        _extra_rubric_rule(list(_NEEDS_POSITIVE), _POSITIVE),
        _extra_rubric_rule(["rar_explicit"], _NON_ZERO),
    ]
    grade["properties"]["extra_schemes"]["uniqueItems"] = True
    grade["description"] = (
        "Per scheme: its own `scheme_params` (GET /v1/schemes), and for healthbench, hybrid and complexity at "
        "least one criterion with positive points in every item's rubric."
    )
    family = schemas["JudgeOptions"]["properties"]["family"]
    family["anyOf"] = [{"type": "string", "enum": list(FAMILY_NAMES)}, {"type": "null"}]
    body = spec["paths"]["/v1/rubrics/validate"]["post"]["requestBody"]["content"]["application/json"]
    body["schema"] = VALIDATE_BODY
    return spec
