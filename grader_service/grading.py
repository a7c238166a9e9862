"""Grading a batch: validate limits, judge every criterion concurrently, turn verdicts into rewards."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from grader_service import metrics
from grader_service._errors import RequestRejected
from grader_service.judge import ItemContext, Judge, Judgement, JudgeRequestOptions
from grader_service.judge.families import FAMILY_NAMES
from grader_service.pitfalls import PitfallCall, decide
from grader_service.policy import cap_explanation, check_judge_options
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
    JudgeOptions,
    OnJudgeError,
    SchemeReward,
    SchemeSpec,
    Usage,
    extra_reward,
    group_stats,
    judge_template_label,
    split_prefix,
)

log = logging.getLogger("grader")
__all__ = ["RequestRejected", "grade", "resolve_options", "validate_request"]


@functools.lru_cache(maxsize=8)
def template_file(path: str) -> str:
    text = Path(path).read_text(encoding="utf-8")
    JudgeOptions(custom_template=text)  # the same placeholder checks as a request's template
    return text


def resolve_options(request: GradeRequest, settings: GraderSettings) -> JudgeRequestOptions:
    j = request.judge
    check_judge_options(j, settings)
    mode = j.mode or settings.judge_mode
    own_prompt_only = mode is JudgeMode.logprob or not SCHEMES[request.scheme].per_criterion
    custom = j.custom_template
    if custom is not None and own_prompt_only:
        raise RequestRejected(
            422,
            ["body", "judge", "custom_template"],
            "a custom judge template asks for its own answer format: use verdict or sample mode with a "
            "per-criterion scheme (logprob mode and rar_implicit use the grader's prompts)",
        )
    if custom is None and settings.judge_template_file and not own_prompt_only:
        custom = template_file(settings.judge_template_file)  # the grader's default, where it applies
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
        custom_template=custom,
    )


def validate_request(request: GradeRequest, settings: GraderSettings) -> RequestPlan:
    """Limits and scheme checks that pydantic alone cannot express; returns the parsed scheme params."""
    if len(request.items) > settings.max_items:
        raise RequestRejected(413, ["body", "items"], f"at most {settings.max_items} items per request")
    try:
        params = parse_params(request.scheme, request.scheme_params)
    except ValidationError as e:
        err = e.errors()[0]
        raise RequestRejected(422, ["body", "scheme_params", *err["loc"]], err["msg"]) from e
    extras = _validate_extras(request)
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
            rubric = ScoringRubric.from_criteria(item.rubric)
            for scheme, p, label in [(request.scheme, params, None)] + [(s.scheme, q, s.key) for s, q in extras]:
                try:
                    _check_scorable(rubric, scheme, p)
                except RubricNotScorable as e:
                    why = f"{e} (extra scheme {label!r})" if label else str(e)
                    raise RequestRejected(422, ["body", "items", i, "rubric"], why) from e
    return RequestPlan(params, extras)


@dataclass(frozen=True)
class RequestPlan:
    """A request's parsed scheme parameters: the main scheme's and each extra scheme's."""

    params: Any
    extras: list[tuple[SchemeSpec, Any]]


def _validate_extras(request: GradeRequest) -> list[tuple[SchemeSpec, Any]]:
    if request.extra_schemes and not SCHEMES[request.scheme].per_criterion:
        raise RequestRejected(
            422,
            ["body", "extra_schemes"],
            f"'{request.scheme}' judges the whole rubric in one call: no per-criterion verdicts to score other "
            "schemes from; request it on its own",
        )
    seen = {request.scheme}
    out = []
    for k, s in enumerate(request.extra_schemes):
        if s.key in seen:
            raise RequestRejected(
                422, ["body", "extra_schemes", k], f"{s.key!r} is already scored in this request; give it a `name`"
            )
        seen.add(s.key)
        try:
            out.append((s, parse_params(s.scheme, s.scheme_params)))
        except ValidationError as e:
            err = e.errors()[0]
            raise RequestRejected(422, ["body", "extra_schemes", k, "scheme_params", *err["loc"]], err["msg"]) from e
    return out


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
    plan: RequestPlan,
    opts: JudgeRequestOptions,
    judge: Judge,
    settings: GraderSettings,
) -> ItemResult:
    start = time.perf_counter()
    spec = SCHEMES[request.scheme]
    ctx = ItemContext(item.messages(), item.response)
    usage = Usage()
    mode = request.pitfall_polarity or settings.pitfall_polarity
    calls = [decide(c, mode) for c in item.rubric]
    if not spec.per_criterion:
        rating = await judge.judge_rubric(ctx, _as_faults(item.rubric, calls), opts)
        usage.add(rating.usage)
        criteria = [
            CriterionResult(
                criterion=c.criterion, points=c.points, category=c.category, met=None, p_met=None, **_reported(call)
            )
            for c, call in zip(item.rubric, calls, strict=True)
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
    for c, j, call in zip(item.rubric, judgements, calls, strict=True):
        usage.add(j.usage)
        criteria.append(
            CriterionResult(
                criterion=c.criterion,
                points=c.points,
                category=c.category,
                met=j.met,
                p_met=j.p_met,
                explanation=cap_explanation(j.explanation, settings.max_explanation_chars),
                error=j.error,
                **_reported(call),
            )
        )
    failed = [i for i, j in enumerate(judgements) if j.error is not None]
    flips = frozenset(i for i, call in enumerate(calls) if call is not None and call.flips)
    main = score(item, judgements, request.scheme, plan.params, request.on_judge_error, settings, flips)
    extra = {
        s.key: score(item, judgements, s.scheme, p, request.on_judge_error, settings, flips) for s, p in plan.extras
    }
    usage.ms = (time.perf_counter() - start) * 1000
    return ItemResult(
        id=item.id,
        group_id=item.group_id,
        **main.model_dump(),
        criteria=criteria,
        skipped_criteria=len(failed) if main.reward is not None else 0,
        extra_rewards=extra,
        usage=usage,
    )


def score(
    item: GradeItem,
    judgements: list[Judgement],
    scheme: str,
    params: Any,
    on_judge_error: OnJudgeError,
    settings: GraderSettings,
    flips: frozenset[int] = frozenset(),
) -> SchemeReward:
    """One scheme's reward from an item's verdicts: null with the cause when the verdicts do not allow one.
    `flips`: the pitfalls penalised when NOT met (avoid-phrased, under pitfall_polarity=auto)."""
    failed = [i for i, j in enumerate(judgements) if j.error is not None]
    if failed and on_judge_error is OnJudgeError.null:
        errors = [j.error for j in judgements if j.error is not None and j.error.type is not ErrorType.not_judged]
        first = errors[0]
        rest = len(failed) - len(errors)
        return SchemeReward(
            reward=None,
            reward_std=None,
            error=GradeError(
                type=first.type,
                message=f"{len(errors)} of {len(judgements)} criteria could not be judged"
                + (f" ({rest} more left unjudged once the reward was certain to be null)" if rest else "")
                + f"; first: {first.message}",
            ),
        )
    keep = [i for i, j in enumerate(judgements) if j.error is None]
    try:
        if not keep:
            raise RubricNotScorable("no criterion could be judged")
        r = ScoringRubric.from_criteria([item.rubric[i] for i in keep])
        est: RewardEstimate = expected_reward(
            [_triggered(float(judgements[i].p_met), i in flips) for i in keep],  # type: ignore[arg-type]
            r,
            scheme,
            params,
            enum_max=settings.enum_max,
            mc_samples=settings.mc_samples,
            seed=_seed(item),
        )
    except RubricNotScorable as e:
        return SchemeReward(
            reward=None,
            reward_std=None,
            error=GradeError(type=ErrorType.no_scorable_criteria, message=f"{e} (after skipping {len(failed)} failed)"),
        )
    return SchemeReward(reward=est.mean, reward_std=est.std, estimate=est.method, reward_stderr=est.stderr)


def _triggered(p_met: float, flip: bool) -> float:
    """The probability the reward math scores as "met": for a flipped pitfall, that it was NOT met."""
    return 1.0 - p_met if flip else p_met


def _reported(call: PitfallCall | None) -> dict[str, Any]:
    if call is None:
        return {}
    return {"polarity": call.polarity, "polarity_source": call.source, "penalised_when": call.penalised_when}


def _as_faults(rubric: list[Criterion], calls: list[PitfallCall | None]) -> list[Criterion]:
    """The rubric for a whole-rubric rating: a pitfall penalised when not met is listed as that failure."""
    return [
        c.model_copy(update={"criterion": f"Fails this: {split_prefix(c.criterion)[1].strip()}"})
        if call is not None and call.flips
        else c
        for c, call in zip(rubric, calls, strict=True)
    ]


def _observe(request: GradeRequest, results: list[ItemResult]) -> None:
    metrics.REQUEST_ITEMS.observe(len(request.items))
    metrics.REQUEST_CRITERIA.observe(sum(len(it.rubric) for it in request.items))
    rewards = metrics.REWARDS.labels(request.scheme)
    extra = {s.key: metrics.REWARDS.labels(s.scheme) for s in request.extra_schemes}
    for r in results:
        for key, x in r.extra_rewards.items():
            if x.reward is not None:
                extra[key].observe(x.reward)
        if r.reward is not None:
            rewards.observe(r.reward)
        elif r.error is not None:
            metrics.NULL_REWARDS.labels(r.error.type.value).inc()
        for c in r.criteria:
            if c.error is not None and c.error.type is not ErrorType.not_judged:
                metrics.JUDGE_ERRORS.labels(c.error.type.value).inc()


async def grade(request: GradeRequest, judge: Judge, settings: GraderSettings) -> GradeResponse:
    plan = validate_request(request, settings)
    opts = resolve_options(request, settings)
    start = time.perf_counter()
    results = list(
        await asyncio.gather(*(grade_item(it, request, plan, opts, judge, settings) for it in request.items))
    )
    _observe(request, results)
    total = Usage()
    for r in results:
        total.add(r.usage)
    total.ms = (time.perf_counter() - start) * 1000
    return GradeResponse(
        scheme=request.scheme,
        scheme_params=plan.params.model_dump(),
        mode=opts.mode,
        model=opts.model,
        pitfall_polarity=request.pitfall_polarity or settings.pitfall_polarity,
        judge_template=judge_template_label(opts.custom_template),
        results=results,
        groups=group_stats(results),
        extra_schemes={
            s.key: SchemeSpec(scheme=s.scheme, scheme_params=p.model_dump(), name=s.name) for s, p in plan.extras
        },
        extra_groups={s.key: group_stats(results, extra_reward(s.key)) for s, _ in plan.extras},
        usage=total,
    )
