"""The only place that reads or writes files: input tables (:func:`read_table`), JSON results, trial specifications.

Every write is atomic: the content goes to a temporary file in the target folder, which then replaces the
target in one step, so a failure never leaves a half-written file behind.
"""

from .tables import read_table
from .files import write_bytes, write_csv_chunks, write_json, write_table, write_text
from .trial import TrialSpec, load_trial_spec, read_dose_counts

__all__ = ["write_text", "write_bytes", "write_json", "write_table", "write_csv_chunks", "TrialSpec", "load_trial_spec",
           "read_dose_counts", "read_table"]
