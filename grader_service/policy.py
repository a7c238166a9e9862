"""What a request may change about the judge call: the owner's allowlists, checked before any judge work.

The grader's owner pays for the judge, so a request can tune sampling but cannot choose the prompt's
messages, the model (beyond `GRADER_JUDGE_ALLOWED_MODELS`), the number of samples per call, the token
budget or tools (docs/security.md). Every refused field is named in one 422, so a client fixes them at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from grader_service._errors import Loc, RequestRejected
from grader_service.settings import GRADER_OWNED_FIELDS, GraderSettings
from shared import JudgeOptions

_JUDGE: Loc = ["body", "judge"]


def refused_extra_body(body: Mapping[str, Any], allow: Iterable[str], prefix: str = "") -> list[str]:
    """Dotted paths of `body` the allowlist does not cover. A listed key allows its whole value; a listed
    dotted path (`a.b`) allows that one nested key, so `a` itself must then be an object."""
    allow = frozenset(allow)
    out: list[str] = []
    for key, value in body.items():
        path = f"{prefix}{key}"
        if path in allow:
            continue
        nested = any(a.startswith(path + ".") for a in allow)
        if nested and isinstance(value, Mapping):
            out.extend(refused_extra_body(value, allow, path + "."))
        else:
            out.append(path)
    return out


def _why_extra(path: str) -> str:
    if path.split(".")[0] in GRADER_OWNED_FIELDS:
        return "the grader builds this field of the judge request itself; a request cannot set it"
    return "not among the judge fields this grader lets a request set (GRADER_JUDGE_EXTRA_BODY_ALLOW)"


def check_judge_options(j: JudgeOptions, settings: GraderSettings) -> None:
    """Raise one 422 naming every field of `j` the owner does not allow."""
    errors: list[tuple[Loc, str]] = []
    if j.model is not None and j.model != settings.judge_model and j.model not in settings.judge_allowed_models:
        errors.append(
            (
                [*_JUDGE, "model"],
                f"this grader judges with {settings.judge_model!r}; other models only where the owner lists them "
                "(GRADER_JUDGE_ALLOWED_MODELS)",
            )
        )
    for path in refused_extra_body(j.extra_body or {}, settings.judge_extra_body_allow):
        errors.append(([*_JUDGE, "extra_body", *path.split(".")], _why_extra(path)))
    if j.custom_template is not None and not settings.judge_allow_custom_template:
        errors.append(
            (
                [*_JUDGE, "custom_template"],
                "this grader takes no judge prompt from a request (GRADER_JUDGE_ALLOW_CUSTOM_TEMPLATE=false); "
                "its owner can set one for every request with GRADER_JUDGE_TEMPLATE_FILE",
            )
        )
    if errors:
        (loc, msg), *rest = errors
        raise RequestRejected(422, loc, msg, also=rest)


def cap_explanation(text: str | None, limit: int) -> str | None:
    """A judge's explanation as returned to the caller: at most `limit` characters."""
    if text is None or len(text) <= limit:
        return text
    return text[: max(0, limit - 1)] + "…"
