"""The grader behind other RL stacks: verl, OpenRLHF and verifiers, each in its own convention.

Every adapter reads the rubric from the stack's own per-sample field (verl's `ground_truth`,
OpenRLHF's label, verifiers' `info`/`answer`) in any format the loaders read, grades through the
grader, and reports a reward it could not compute the way the stack expects — counted, never a silent 0.
No torch, no grader code: only the client package.
"""
