"""Which questions are about the heart: lexical rules and learned probes on SmolLM2 (offline), and an LLM
classifier (the judge endpoint)."""

from trainer.heart._choose import CLASSIFIERS, make_classifier
from trainer.heart._labelled import Classifier
from trainer.heart._lexical import HeartLabel, classify_lexical, pick_theme
from trainer.heart._llm import LLM_SYSTEM, LLMClassifier, llm_messages, verify_llm_label
from trainer.heart._themes import GENERIC, THEMES

__all__ = [
    "CLASSIFIERS",
    "GENERIC",
    "LLM_SYSTEM",
    "THEMES",
    "Classifier",
    "HeartLabel",
    "LLMClassifier",
    "classify_lexical",
    "llm_messages",
    "make_classifier",
    "pick_theme",
    "verify_llm_label",
]
