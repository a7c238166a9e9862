"""A self-contained HTML report of graded examples: one file, offline, no CDN (`write_report`)."""

from trainer.html_report._examples import from_dump_rows, from_grade_response, from_graded_rows
from trainer.html_report._write import write_report

__all__ = ["from_dump_rows", "from_grade_response", "from_graded_rows", "write_report"]
