"""The only place that reads or writes files: input tables (:func:`read_table`), JSON results, trial specifications.

Every write is atomic: the content goes to a temporary file in the target folder, which then replaces the
target in one step, so a failure never leaves a half-written file behind.
"""

from adcbridge._lazy import lazy_exports

from .files import (
                    Stage,
                    staged_outputs,
                    write_bytes,
                    write_csv_chunks,
                    write_json,
                    write_table,
                    write_table_chunks,
                    write_text,
)
from .tables import read_table

# trial specifications import the dose-finding designs (scipy, about 0.5 s): loaded on first use, so that the
# commands that only read and write tables start fast
__getattr__, __dir__ = lazy_exports(__name__, {"TrialSpec": ".trial", "load_trial_spec": ".trial",
                                               "read_dose_counts": ".trial", "read_history": ".history"})


__all__ = ["write_text", "write_bytes", "write_json", "write_table", "write_csv_chunks", "TrialSpec", "load_trial_spec",
           "read_dose_counts", "write_table_chunks", "staged_outputs", "Stage", "read_table", "read_history"]
