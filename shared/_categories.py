"""Rubric categories and their inference from RaR-style text prefixes."""

from __future__ import annotations

import re
from enum import StrEnum


class Category(StrEnum):
    essential = "essential"
    important = "important"
    optional = "optional"
    pitfall = "pitfall"


_PREFIX = re.compile(r"^\s*(essential|important|optional|pitfall)\s+criteri(?:a|on)\s*:\s*", re.IGNORECASE)


def split_prefix(text: str) -> tuple[Category | None, str]:
    """Return the category named by an 'Essential Criteria:'-style prefix and the text without it."""
    m = _PREFIX.match(text)
    if not m:
        return None, text
    return Category(m.group(1).lower()), text[m.end() :]


def infer_category(text: str, points: float) -> Category | None:
    """Category from the text prefix; negative points without a prefix are pitfalls."""
    category, _ = split_prefix(text)
    if category is not None:
        return category
    return Category.pitfall if points < 0 else None
