"""Compare reward schemes on the same rollouts: which keeps GRPO groups from collapsing to zero variance."""
