"""GRPO trainer with rubric rewards from the grader service (TRL + peft)."""
