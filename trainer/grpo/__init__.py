"""`python -m trainer grpo`: TRL's GRPOTrainer with the grader as its reward function (LoRA via peft)."""

from trainer.grpo.cli import GRPOScriptArguments, build_reward, build_trainer, cpu_grpo_config, main, run_grpo

__all__ = ["GRPOScriptArguments", "build_reward", "build_trainer", "cpu_grpo_config", "main", "run_grpo"]
