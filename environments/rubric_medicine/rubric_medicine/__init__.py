"""rubric-medicine, a verifiers v1 taskset: `vf-eval rubric-medicine --env.taskset.source data.jsonl`."""

from rubric_medicine.harness import RubricMedicineHarness
from rubric_medicine.taskset import RubricMedicineTaskset

__all__ = ["RubricMedicineHarness", "RubricMedicineTaskset"]
