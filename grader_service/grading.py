"""Grading a batch: validate limits, judge every criterion concurrently, turn verdicts into rewards."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from typing import Any

from pydantic import ValidationError

from grader_service import metrics
from grader_service.judge import ItemContext, Judge, Judgement, JudgeRequestOptions
from grader_service.judge.families import FAMILY_NAMES
from grader_service.schemes import (
    SCHEMES,
    RewardEstimate,
    RubricNotScorable,
    ScoringRubric,
    expected_reward,
    likert_reward,
    parse_params,
)
from grader_service.settings import GraderSettings
from shared import (
    Criterion,
    CriterionResult,
    ErrorType,
    GradeError,
    GradeItem,
    GradeRequest,
    GradeResponse,
    ItemResult,
    JudgeMode,
    OnJudgeError,
    Usage,
    group_stats,
)

log = logging.getLogger("grader")


class RequestRejected(Exception):
    """Bad input found after parsing; carries the HTTP status and the field's location."""

    def __init__(self, status: int, loc: list[str | int], msg: str) -> None:
        super().__init__(msg)
        self.status = status
        self.loc = loc
        self.msg = msg

    def detail(self) -> list[dict[str, Any]]:
        return [{"loc": self.loc, "msg": self.msg, "type": "value_error"}]


def resolve_options(request: GradeRequest, settings: GraderSettings) -> JudgeRequestOptions:
    j = request.judge
    mode = j.mode or settings.judge_mode
    default_t = settings.judge_sample_temperature if mode is JudgeMode.sample else settings.judge_temperature
    family = j.family or settings.judge_family
    if family not in FAMILY_NAMES:
        raise RequestRejected(
            422, ["body", "judge", "family"], f"unknown judge family; one of {', '.join(FAMILY_NAMES)}"
        )
    return JudgeRequestOptions(
        mode=mode,
        template=j.template or settings.judge_template,
        samples=j.samples or settings.judge_samples,
        temperature=j.temperature if j.temperature is not None else default_t,
        model=j.model or settings.judge_model,
        family=family,
        extra_body=dict(j.extra_body or {}),
    )


def validate_request(request: GradeRequest, settings: GraderSettings) -> Any:
    """Limits and scheme checks that pydantic alone cannot express; returns the parsed scheme params."""
    if len(request.items) > settings.max_items:
        raise RequestRejected(413, ["body", "items"], f"at most {settings.max_items} items per request")
    try:
        params = parse_params(request.scheme, request.scheme_params)
    except ValidationError as e:
        err = e.errors()[0]
        raise RequestRejected(422, ["body", "scheme_params", *err["loc"]], err["msg"]) from e
    spec = SCHEMES[request.scheme]
    for i, item in enumerate(request.items):
        if len(item.rubric) > settings.max_criteria:
            raise RequestRejected(
                413, ["body", "items", i, "rubric"], f"at most {settings.max_criteria} criteria per item"
            )
        texts = [item.response] + ([item.prompt] if isinstance(item.prompt, str) else [m.content for m in item.prompt])
        if sum(len(t) for t in texts) > settings.max_text_chars:
            raise RequestRejected(
                413,
                ["body", "items", i, "response"],
                f"prompt and response exceed {settings.max_text_chars} characters",
            )
        if spec.per_criterion:
            try:
                _check_scorable(ScoringRubric.from_criteria(item.rubric), request.scheme, params)
            except RubricNotScorable as e:
                raise RequestRejected(422, ["body", "items", i, "rubric"], str(e)) from e
    return params


def _check_scorable(r: ScoringRubric, scheme: str, params: Any) -> None:
    expected_reward([0.0] * r.n, r, scheme, params)


_NOT_JUDGED = GradeError(
    type=ErrorType.not_judged, message="not judged: another criterion failed, so the item's reward is null"
)


async def _one_criterion(judge: Judge, ctx: ItemContext, c: Criterion, opts: JudgeRequestOptions) -> Judgement:
    """A judge call whose unexpected failure is this criterion's typed error, not the whole request's 500."""
    try:
        return await judge.judge_criterion(ctx, c, opts)
    except Exception as e:  # a bug in a judge backend: keep the batch, report it
        log.exception("judge backend failed on a criterion")
        return Judgement(
            met=None, p_met=None, error=GradeError(type=ErrorType.internal_error, message=type(e).__name__)
        )


async def judge_criteria(
    judge: Judge, ctx: ItemContext, item: GradeItem, opts: JudgeRequestOptions, *, stop_on_error: bool
) -> list[Judgement]:
    """Every criterion of one item, concurrently. With `stop_on_error` the first failure makes the
    item's reward certainly null, so its criteria still waiting are cancelled: no judge calls spent on it."""
    tasks = [asyncio.ensure_future(_one_criterion(judge, ctx, c, opts)) for c in item.rubric]
    settled = asyncio.get_running_loop().create_future()
    remaining = len(tasks)

    def on_done(task: asyncio.Future[Judgement]) -> None:
        nonlocal remaining
        remaining -= 1
        failed = stop_on_error and not task.cancelled() and task.result().error is not None
        if (remaining == 0 or failed) and not settled.done():
            settled.set_result(None)

    for t in tasks:
        t.add_done_callback(on_done)
    try:
        await settled
    finally:
        pending = [t for t in tasks if not t.done()]
        for t in pending:
            t.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
    return [Judgement(met=None, p_met=None, error=_NOT_JUDGED) if t.cancelled() else t.result() for t in tasks]


def _seed(item: GradeItem) -> int:
    return int.from_bytes(hashlib.sha256(item.response.encode()).digest()[:4], "little")


async def grade_item(
    item: GradeItem,
    request: GradeRequest,
    params: Any,
    opts: JudgeRequestOptions,
    judge: Judge,
    settings: GraderSettings,
) -> ItemResult:
    start = time.perf_counter()
    spec = SCHEMES[request.scheme]
    ctx = ItemContext(item.messages(), item.response)
    usage = Usage()
    if not spec.per_criterion:
        rating = await judge.judge_rubric(ctx, list(item.rubric), opts)
        usage.add(rating.usage)
        criteria = [
            CriterionResult(criterion=c.criterion, points=c.points, category=c.category, met=None, p_met=None)
            for c in item.rubric
        ]
        if rating.rating_probs is None:
            result = ItemResult(
                id=item.id, group_id=item.group_id, reward=None, reward_std=None, error=rating.error, criteria=criteria
            )
        else:
            est = likert_reward(rating.rating_probs)
            result = ItemResult(
                id=item.id,
                group_id=item.group_id,
                reward=est.mean,
                reward_std=est.std,
                estimate=est.method,
                criteria=criteria,
            )
        result.usage = usage
        usage.ms = (time.perf_counter() - start) * 1000
        return result

    judgements = await judge_criteria(judge, ctx, item, opts, stop_on_error=request.on_judge_error is OnJudgeError.null)
    criteria = []
    for c, j in zip(item.rubric, judgements, strict=True):
        usage.add(j.usage)
        criteria.append(
            CriterionResult(
                criterion=c.criterion,
                points=c.points,
                category=c.category,
                met=j.met,
                p_met=j.p_met,
                explanation=j.explanation,
                error=j.error,
            )
        )
    failed = [i for i, j in enumerate(judgements) if j.error is not None]
    reward: float | None = None
    reward_std: float | None = None
    estimate: Any = None
    stderr: float | None = None
    error: GradeError | None = None
    skipped = 0
    if failed and request.on_judge_error is OnJudgeError.null:
        errors = [j.error for j in judgements if j.error is not None and j.error.type is not ErrorType.not_judged]
        first = errors[0]
        rest = len(failed) - len(errors)
        error = GradeError(
            type=first.type,
            message=f"{len(errors)} of {len(judgements)} criteria could not be judged"
            + (f" ({rest} more left unjudged once the reward was certain to be null)" if rest else "")
            + f"; first: {first.message}",
        )
    else:
        keep = [i for i, j in enumerate(judgements) if j.error is None]
        skipped = len(failed)
        try:
            if not keep:
                raise RubricNotScorable("no criterion could be judged")
            r = ScoringRubric.from_criteria([item.rubric[i] for i in keep])
            p = [judgements[i].p_met for i in keep]
            est: RewardEstimate = expected_reward(
                [float(x) for x in p],
                r,
                request.scheme,
                params,  # type: ignore[arg-type]
                enum_max=settings.enum_max,
                mc_samples=settings.mc_samples,
                seed=_seed(item),
            )
            reward, reward_std = est.mean, est.std
            estimate, stderr = est.method, est.stderr
        except RubricNotScorable as e:
            error = GradeError(type=ErrorType.no_scorable_criteria, message=f"{e} (after skipping {skipped} failed)")
    usage.ms = (time.perf_counter() - start) * 1000
    return ItemResult(
        id=item.id,
        group_id=item.group_id,
        reward=reward,
        reward_std=reward_std,
        estimate=estimate,
        reward_stderr=stderr,
        error=error,
        criteria=criteria,
        skipped_criteria=skipped if reward is not None else 0,
        usage=usage,
    )


def _observe(request: GradeRequest, results: list[ItemResult]) -> None:
    metrics.REQUEST_ITEMS.observe(len(request.items))
    metrics.REQUEST_CRITERIA.observe(sum(len(it.rubric) for it in request.items))
    rewards = metrics.REWARDS.labels(request.scheme)
    for r in results:
        if r.reward is not None:
            rewards.observe(r.reward)
        elif r.error is not None:
            metrics.NULL_REWARDS.labels(r.error.type.value).inc()
        for c in r.criteria:
            if c.error is not None and c.error.type is not ErrorType.not_judged:
                metrics.JUDGE_ERRORS.labels(c.error.type.value).inc()


async def grade(request: GradeRequest, judge: Judge, settings: GraderSettings) -> GradeResponse:
    params = validate_request(request, settings)
    opts = resolve_options(request, settings)
    start = time.perf_counter()
    results = list(
        await asyncio.gather(*(grade_item(it, request, params, opts, judge, settings) for it in request.items))
    )
    _observe(request, results)
    total = Usage()
    for r in results:
        total.add(r.usage)
    total.ms = (time.perf_counter() - start) * 1000
    return GradeResponse(
        scheme=request.scheme,
        scheme_params=params.model_dump(),
        mode=opts.mode,
        model=opts.model,
        results=results,
        groups=group_stats(results),
        usage=total,
    )
