"""Which questions are about the heart: a lexical classifier (offline) and an LLM one (the judge endpoint)."""

from trainer.heart._labelled import Classifier
from trainer.heart._lexical import HeartLabel, classify_lexical, pick_theme
from trainer.heart._llm import LLM_SYSTEM, LLMClassifier, llm_messages, verify_llm_label
from trainer.heart._themes import GENERIC, THEMES

__all__ = [
    "GENERIC",
    "LLM_SYSTEM",
    "THEMES",
    "Classifier",
    "HeartLabel",
    "LLMClassifier",
    "classify_lexical",
    "llm_messages",
    "pick_theme",
    "verify_llm_label",
]
