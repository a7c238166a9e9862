"""`python -m trainer prepare`: the heart-related subset of RaR-Medicine-style records, split for SFT, GRPO and
evaluation, with each record's heart label and pitfall polarity."""

from trainer.prepare._splits import AUDIT, FILES, load_jsonl_dataset
from trainer.prepare.cli import HEART_SYSTEM_PROMPT, PrepareArguments, prepare, record_id, run_prepare
from trainer.prepare.sources import load_records

__all__ = [
    "AUDIT",
    "FILES",
    "HEART_SYSTEM_PROMPT",
    "PrepareArguments",
    "load_jsonl_dataset",
    "load_records",
    "prepare",
    "record_id",
    "run_prepare",
]
