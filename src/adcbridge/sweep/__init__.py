"""Simulation sweeps: designs x scenarios x sample sizes x trials, in this process or on a Dask cluster.

>>> from adcbridge.sweep import SweepFile, run_sweep
>>> sweep = SweepFile(designs=[{"name": "boin", "target": 0.3, "n_doses": 3}],
...                   scenarios=[{"name": "S1", "p_true": [0.1, 0.3, 0.5]}], trials=1000, seed=1)
>>> result = run_sweep(sweep, workers=0)
>>> round(sum(result.records[0]["selection_pct"]) + result.records[0]["no_mtd_pct"], 6)
100.0

``adcbridge sweep sweep.yaml --out DIR`` writes ``DIR/results.parquet`` (:mod:`.tables`), ``DIR/summary.html``
(:mod:`.summary`) and ``DIR/sweep.json`` (every cell's pooled record, its design spec and chunk seeds).
"""

from .plan import CHUNK_TRIALS, plan_sweep
from .run import SweepResult, run_sweep
from .spec import SweepFile, SweepScenario, load_sweep
from .write import write_sweep

__all__ = ["SweepFile", "SweepScenario", "load_sweep", "plan_sweep", "run_sweep", "SweepResult", "write_sweep",
           "CHUNK_TRIALS"]
