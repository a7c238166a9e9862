"""Pitfall polarity: the hand labels joined to their texts, and the classifier's measurement on them."""

from trainer.polarity._eval import measure
from trainer.polarity._labels import LABELS_DIR, LabelledPitfall, load_split

__all__ = ["LABELS_DIR", "LabelledPitfall", "load_split", "measure"]
