"""`python -m trainer sft`: supervised warm-up on the prepared references (LoRA), before GRPO."""

from trainer.sft.cli import SFTScriptArguments, main, resume_arg, run_sft

__all__ = ["SFTScriptArguments", "main", "resume_arg", "run_sft"]
