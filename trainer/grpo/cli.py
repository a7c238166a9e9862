"""`grpo`: GRPO with TRL's GRPOTrainer, LoRA via peft, and rubric rewards from the grader over HTTP."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared import ClientSettings, JudgeOptions
from shared.rewards import RewardSettings, make_rubric_reward
from trainer.models import load_policy, resolve_model_path
from trainer.prepare import load_jsonl_dataset
from trainer.presets import parse
from trainer.sft import resume_arg

SCHEMES = ("hybrid", "complexity", "rar_explicit", "rar_implicit", "healthbench")


@dataclass
class GRPOScriptArguments:
    dataset_path: str = field(default="data/prepared", metadata={"help": "prepared dir (its train.jsonl) or a JSONL"})
    reward_scheme: str = field(default="hybrid", metadata={"help": " | ".join(SCHEMES)})
    judge_mode: str | None = field(default=None, metadata={"help": "verdict | logprob | sample (grader default)"})
    judge_samples: int | None = None
    pitfall_polarity: str | None = field(
        default=None, metadata={"help": "literal | auto (a pitfall phrased as avoidance penalised when not met)"}
    )
    grader_url: str | None = field(default=None, metadata={"help": "default: RUBRIC_GRADER_URL"})
    sft_adapter: str | None = field(default=None, metadata={"help": "SFT LoRA adapter to merge before GRPO"})
    reward_log_schemes: list[str] = field(
        default_factory=list,
        metadata={"help": "schemes scored from the same judge pass, logged as rubric/<scheme>/..."},
    )
    reward_dump_dir: str | None = field(
        default=None, metadata={"help": "save every batch's rollouts here (for python -m trainer compare-schemes)"}
    )


def build_reward(script_args: GRPOScriptArguments) -> Any:
    if script_args.reward_scheme not in SCHEMES:
        raise SystemExit(f"--reward_scheme must be one of {', '.join(SCHEMES)}")
    judge = JudgeOptions(mode=script_args.judge_mode, samples=script_args.judge_samples)
    client = ClientSettings(url=script_args.grader_url) if script_args.grader_url else ClientSettings()
    extra: dict[str, Any] = {}  # unset flags leave the RUBRIC_REWARD_* environment in charge
    if script_args.reward_log_schemes:
        extra["log_schemes"] = script_args.reward_log_schemes
    if script_args.reward_dump_dir:
        extra["dump_dir"] = script_args.reward_dump_dir
    if script_args.pitfall_polarity:
        extra["pitfall_polarity"] = script_args.pitfall_polarity
    settings = RewardSettings(scheme=script_args.reward_scheme, judge=judge, **extra)
    return make_rubric_reward(settings, client)


def build_trainer(
    script_args: GRPOScriptArguments, training_args: Any, model_args: Any, reward_funcs: Any = None
) -> Any:
    """The GRPO trainer `run_grpo` trains; `reward_funcs` replaces the grader reward (tests wrap it)."""
    from transformers import AutoTokenizer
    from trl import get_peft_config

    from trainer.grpo.timed import TimedGRPOTrainer

    with training_args.main_process_first(desc="building or converting the policy"):
        model_path = resolve_model_path(model_args.model_name_or_path)  # rank 0 writes it, the others then read
    dataset = load_jsonl_dataset(script_args.dataset_path, "grpo").select_columns(["prompt", "rubric"])
    return TimedGRPOTrainer(
        model=load_policy(model_path, model_args, script_args.sft_adapter),
        reward_funcs=reward_funcs if reward_funcs is not None else build_reward(script_args),
        args=training_args,
        train_dataset=dataset,
        processing_class=AutoTokenizer.from_pretrained(model_path, padding_side="left"),
        peft_config=get_peft_config(model_args),
    )


def run_grpo(script_args: GRPOScriptArguments, training_args: Any, model_args: Any) -> Any:
    trainer = build_trainer(script_args, training_args, model_args)
    trainer.train(resume_from_checkpoint=resume_arg(training_args))
    trainer.save_model(training_args.output_dir)
    return trainer


def main(argv: list[str]) -> Any:
    from trl import GRPOConfig, ModelConfig

    return run_grpo(*parse("grpo", (GRPOScriptArguments, GRPOConfig, ModelConfig), argv))


def cpu_grpo_config(output_dir: str | Path, **overrides: Any) -> Any:
    """TRL's GRPOConfig on a CPU (no bf16, no gradient checkpointing): G=4 completions of one prompt a step,
    a log line a step, nothing saved or reported; `overrides` win."""
    from trl import GRPOConfig

    base: dict[str, Any] = dict(
        output_dir=str(output_dir),
        per_device_train_batch_size=4,
        num_generations=4,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        use_cpu=True,
        bf16=False,
        gradient_checkpointing=False,
    )
    return GRPOConfig(**(base | overrides))
