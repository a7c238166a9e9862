"""Judge modes as strategies beside one call loop (`OpenAIJudge`): a new mode is one small class here.

Each mode builds its requests and reads its answers through a `JudgeCall`; sending, retries, adapting to
refusals and accounting stay in the loop."""

from grader_service.judge.modes._base import CriterionMode, RubricMode
from grader_service.judge.modes._call import JudgeCall, Knobs, Learned
from grader_service.judge.modes._logprob import Logprob
from grader_service.judge.modes._rating import RatingByLogprob, RatingByVerdict
from grader_service.judge.modes._sample import Sample
from grader_service.judge.modes._verdict import Verdict
from shared import JudgeMode

CRITERION_MODES: dict[JudgeMode, CriterionMode] = {
    JudgeMode.verdict: Verdict(),
    JudgeMode.logprob: Logprob(),
    JudgeMode.sample: Sample(),
}


def criterion_mode(mode: JudgeMode) -> CriterionMode:
    return CRITERION_MODES[mode]


def rubric_mode(mode: JudgeMode) -> RubricMode:
    """rar_implicit's rating: by logprob in logprob mode, by written ratings in verdict and sample modes."""
    return RatingByLogprob() if mode is JudgeMode.logprob else RatingByVerdict()


__all__ = [
    "CRITERION_MODES",
    "CriterionMode",
    "JudgeCall",
    "Knobs",
    "Learned",
    "Logprob",
    "RatingByLogprob",
    "RatingByVerdict",
    "RubricMode",
    "Sample",
    "Verdict",
    "criterion_mode",
    "rubric_mode",
]
