"""Judge backends behind one small interface (`Judge`), so tests and deployments can swap them."""

from grader_service.judge._base import Judge, JudgeError, Judgement, JudgeRequestOptions, RatingJudgement
from grader_service.judge._cached import CachedJudge
from grader_service.judge._openai import OpenAIJudge, RetryPolicy, make_client

__all__ = [
    "CachedJudge",
    "Judge",
    "JudgeError",
    "JudgeRequestOptions",
    "Judgement",
    "OpenAIJudge",
    "RatingJudgement",
    "RetryPolicy",
    "make_client",
]
