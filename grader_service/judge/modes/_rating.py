"""rar_implicit's whole-rubric rating (1-10): from the number token's logprobs, or from written ratings."""

from __future__ import annotations

from grader_service._redact import sanitize
from grader_service.judge import _prompts as prompts
from grader_service.judge._answer import alternatives, answer_position
from grader_service.judge._base import JudgeError, RatingJudgement
from grader_service.judge._parse import parse_rating, rating_distribution
from grader_service.judge.modes._call import JudgeCall
from shared import Criterion, ErrorType, JudgeMode


class RatingByLogprob:
    """The distribution over 1..10 at the number's position (two tokens, for "10")."""

    name = "rating_logprob"

    async def judge(self, call: JudgeCall, rubric: list[Criterion]) -> RatingJudgement:
        messages = prompts.rubric_messages(call.ctx.block(call.opts.template), rubric, prompts.LIKERT_NUMBER_TAIL)
        ans, choice, _ = await call.ask(call.logprob_spec(messages, 2), truncation_ok=True)
        tokens = choice.logprobs if call.caps.logprobs else None
        pos = answer_position(tokens, ans.final) if tokens else None
        if tokens and pos is not None:
            second = alternatives(tokens[pos + 1]) if pos + 1 < len(tokens) else None
            dist = rating_distribution(alternatives(tokens[pos]), second, tokens[pos].token)
            if dist:
                return RatingJudgement(rating_probs=dist)
        parsed = parse_rating(ans.final)
        if parsed is None:
            raise JudgeError(ErrorType.judge_unparseable, f"no rating; got {sanitize(ans.final, 80)!r}")
        return RatingJudgement(rating_probs={parsed[0]: 1.0}, explanation="judge returned no rating logprobs")


class RatingByVerdict:
    """Written ratings: one in verdict mode, `samples` of them in sample mode (their histogram)."""

    name = "rating_verdict"

    async def judge(self, call: JudgeCall, rubric: list[Criterion]) -> RatingJudgement:
        messages = prompts.rubric_messages(call.ctx.block(call.opts.template), rubric, prompts.LIKERT_VERDICT_TAIL)
        n = call.opts.samples if call.opts.mode is JudgeMode.sample else 1
        ratings: list[int] = []
        explanation = None
        tries = 0
        while tries < call.knobs.max_reparse + n and len(ratings) < n:
            ans, _, _ = await call.ask(call.spec(messages), truncation_ok=False)
            tries += 1
            parsed = parse_rating(ans.final)
            if parsed is not None:
                ratings.append(parsed[0])
                explanation = explanation or parsed[1]
        if not ratings:
            raise JudgeError(ErrorType.judge_unparseable, "no 1-10 rating in the judge's replies")
        dist: dict[int, float] = {}
        for r in ratings:
            dist[r] = dist.get(r, 0.0) + 1 / len(ratings)
        return RatingJudgement(rating_probs=dist, explanation=explanation)
