"""`make learn`: the paper's scheme comparison at CPU scale.

The same pretrained policy, prompts and seed trained with GRPO under several reward schemes, the
learning curves of each run, the reward's change from the first steps to the last with a bootstrap
CI, and the evaluation of every trained adapter against the base model. `scripts/learn.py` runs it;
these modules are the parts that do not need a judge: picking the data (`_data`), reading a run's
curves and rewards (`_curves`) and writing the report (`_report`).
"""
