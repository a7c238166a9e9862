"""GRPOTrainer that says where a step's time goes: generation, judging (the reward call) and the rest.

TRL logs `step_time` as a whole and sends its finer profiling only to W&B/MLflow/Trackio. On a CPU, and
with an LLM judge, the split is the first thing a user needs: is the step slow because the policy writes
or because the judge reads? Logged per step as `time/generation_s`, `time/judging_s` and
`time/optimisation_s` (the step minus both: log-probabilities, loss, backward, optimiser).
"""

from __future__ import annotations

import time
from typing import Any

from trl import GRPOTrainer


class TimedGRPOTrainer(GRPOTrainer):
    _t_generation = 0.0
    _t_judging = 0.0

    def _mode(self) -> str:
        return "train" if self.model.training else "eval"

    def _generate(self, prompts: list) -> Any:
        start = time.perf_counter()
        try:
            return super()._generate(prompts)
        finally:
            self._t_generation += time.perf_counter() - start

    def _calculate_rewards(self, inputs: Any, prompts: Any, completions: Any, completion_ids_list: Any) -> Any:
        start = time.perf_counter()
        try:
            return super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
        finally:
            self._t_judging += time.perf_counter() - start

    def training_step(self, model: Any, inputs: Any, num_items_in_batch: Any = None) -> Any:
        start = time.perf_counter()
        out = super().training_step(model, inputs, num_items_in_batch)
        total = time.perf_counter() - start
        if self._step % self.current_gradient_accumulation_steps == 0:
            metrics = self._metrics["train"]
            metrics["time/generation_s"].append(self._t_generation)
            metrics["time/judging_s"].append(self._t_judging)
            metrics["time/optimisation_s"].append(max(0.0, total - self._t_generation - self._t_judging))
            self._t_generation = self._t_judging = 0.0
        return out
