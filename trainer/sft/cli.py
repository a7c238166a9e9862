"""`sft`: optional warm-up on reference answers with TRL's SFTTrainer (LoRA via peft)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trainer.models import load_policy, resolve_model_path
from trainer.prepare import load_jsonl_dataset
from trainer.presets import parse


@dataclass
class SFTScriptArguments:
    dataset_path: str = field(default="data/prepared", metadata={"help": "prepared dir (its sft.jsonl) or a JSONL"})


def run_sft(script_args: SFTScriptArguments, training_args: Any, model_args: Any) -> Any:
    from transformers import AutoTokenizer
    from trl import SFTTrainer, get_peft_config

    with training_args.main_process_first(desc="building or converting the policy"):
        model_path = resolve_model_path(model_args.model_name_or_path)  # rank 0 writes it, the others then read
    dataset = load_jsonl_dataset(script_args.dataset_path, "sft").select_columns(["prompt", "completion"])
    trainer = SFTTrainer(
        model=load_policy(model_path, model_args, None),
        args=training_args,
        train_dataset=dataset,
        processing_class=AutoTokenizer.from_pretrained(model_path),
        peft_config=get_peft_config(model_args),
    )
    trainer.train(resume_from_checkpoint=resume_arg(training_args))
    trainer.save_model(training_args.output_dir)
    return trainer


def resume_arg(training_args: Any) -> str | bool | None:
    """`--resume_from_checkpoint last` resumes from the newest checkpoint in output_dir (if any), and says
    which one: a resumed run should never look like a fresh one in the log."""
    value = training_args.resume_from_checkpoint
    if value in ("last", "true", "True"):
        import os

        from transformers.trainer_utils import get_last_checkpoint

        out = training_args.output_dir
        value = get_last_checkpoint(out) if os.path.isdir(out) else None
        if value is None:
            _say(f"no checkpoint in {out}: training starts from step 0")
            return None
    if value:
        step = str(value).rstrip("/").rsplit("-", 1)[-1]
        _say(f"resuming from {value} (step {step})")
    return value


def _say(msg: str) -> None:
    import logging

    logging.getLogger("trainer").warning(msg)
    print(f"[trainer] {msg}", flush=True)


def main(argv: list[str]) -> Any:
    from trl import ModelConfig, SFTConfig

    return run_sft(*parse("sft", (SFTScriptArguments, SFTConfig, ModelConfig), argv))
