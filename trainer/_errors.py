"""The one error every trainer job raises for a dataset or model it could not load."""

from __future__ import annotations


class SourceUnavailable(SystemExit):
    """A dataset or model that could not be loaded, with the local option to use instead."""
