"""The taskset's default harness: verifiers' own plain chat program (the `null` harness), one answer per task.

verifiers picks a taskset's bundled harness over its `bash` default, and a medical question wants a chat
answer, not a shell. `--env.agent.harness.id bash` (or any other) still overrides it.
"""

from verifiers.v1.harnesses.null import NullHarness


class RubricMedicineHarness(NullHarness):
    pass
