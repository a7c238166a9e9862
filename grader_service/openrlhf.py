"""OpenRLHF's remote-RM endpoint: `--remote_rm_url http://grader:8080/v1/openrlhf/reward`.

The wire format and the conversion live in the client package (`shared.adapters.openrlhf`); this is the
grader's side: the query string picks scheme and judge mode, the items go through `grading.grade`.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from grader_service import grading
from grader_service.judge import Judge
from grader_service.settings import GraderSettings
from shared import GradeRequest, JudgeMode, JudgeOptions, SchemeName, Usage
from shared.adapters.openrlhf import NullRewards, items_from_request, reply


class OpenRLHFRequest(BaseModel):
    """What OpenRLHF posts (0.11.2; the same three fields since its first remote-RM version)."""

    model_config = ConfigDict(extra="allow")

    query: Annotated[list[str], Field(min_length=1, description="prompt + completion per sample")]
    prompts: list[str] = Field(description="the prompt of each sample: as many as `query` (422 otherwise)")
    labels: list[Any] | None = Field(
        None, description="each sample's rubric (or a record holding one): as many as `query` (422 otherwise)"
    )


class OpenRLHFParams(BaseModel):
    """The endpoint's query string: `?scheme=complexity&mode=logprob&null_reward=0`."""

    model_config = ConfigDict(extra="forbid")

    scheme: SchemeName = "hybrid"
    mode: JudgeMode | None = None
    null_reward: float | None = Field(
        None, allow_inf_nan=False, description="unset: a sample without a reward makes the call fail (502)"
    )


async def reward(
    body: OpenRLHFRequest, params: OpenRLHFParams, judge: Judge, settings: GraderSettings
) -> tuple[int, dict[str, Any], Usage]:
    """The status, OpenRLHF's reply and what the judge spent (for the caller's quota)."""
    try:
        items = items_from_request(body.query, body.prompts, body.labels)
    except ValueError as e:
        field = str(e).split("[", 1)[0] if str(e).startswith("labels[") else "query"
        loc: list[str | int] = ["body", field]
        if field == "labels":
            loc.append(int(str(e).split("[", 1)[1].split("]", 1)[0]))
        raise grading.RequestRejected(422, loc, str(e)) from None
    request = GradeRequest(items=items, scheme=params.scheme, judge=JudgeOptions(mode=params.mode))
    result = await grading.grade(request, judge, settings)
    try:
        return 200, reply(result.results, params.null_reward), result.usage
    except NullRewards as e:
        return 502, {"detail": str(e), "items": e.items}, result.usage
