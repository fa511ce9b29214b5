"""One BLAS thread while a chunk is simulated, whichever runner simulates it.

A BLAS reduction (``x @ x`` on float vectors, as a simulator may use for a sum of squares) adds its terms in an
order that depends on the number of BLAS threads: OpenBLAS splits a long dot product between its threads, so the
last bits of the result differ between one thread and several.  Dask's worker processes start with one BLAS thread
(``OPENBLAS_NUM_THREADS=1`` and the like, set by the nanny), while this process -- ``--workers 0``, or an in-process
cluster -- has one per CPU, and a ``dask worker --no-nanny`` whatever its environment says.  So that a chunk gives
the same bits on every runner, :func:`one_blas_thread` sets the BLAS libraries loaded in the process (OpenBLAS,
as numpy and scipy wheels bundle it, and MKL) to one thread while a chunk runs, and restores them afterwards
(reference-counted, so chunks running on several threads of one process do not restore it under each other).

Where no such library can be found (another BLAS, another platform), nothing is changed.  BLAS kernels differ
between kinds of CPU too, so bit-identical results across a cluster also need the same kind of CPU and the same
numpy build on every machine (see docs/sweep.md).
"""

from __future__ import annotations

import ctypes
import glob
import os
import sys
import threading
from contextlib import contextmanager

__all__ = ["blas_controls", "one_blas_thread"]

#: (set, get) function names of the BLAS libraries whose number of threads can be set
_PAIRS = (("scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_"),
          ("scipy_openblas_set_num_threads", "scipy_openblas_get_num_threads"),
          ("openblas_set_num_threads64_", "openblas_get_num_threads64_"),
          ("openblas_set_num_threads", "openblas_get_num_threads"),
          ("MKL_Set_Num_Threads", "MKL_Get_Max_Threads"))
_NAMES = ("openblas", "mkl_rt")

_lock = threading.Lock()
_depth = 0
_saved: list[tuple] = []
_libraries: dict[str, ctypes.CDLL | None] = {}


def _loaded_paths() -> list[str]:
    """Paths of the BLAS libraries loaded in this process (Linux: from /proc/self/maps), else those bundled with
    numpy and scipy wheels."""
    paths: list[str] = []
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                path = line.rsplit(None, 1)[-1] if "/" in line else ""
                if path.startswith("/") and any(n in os.path.basename(path).lower() for n in _NAMES) \
                        and path not in paths:
                    paths.append(path)
    except OSError:
        pass
    if paths or sys.platform.startswith("linux"):
        return paths
    for module in ("numpy", "scipy"):
        mod = sys.modules.get(module)
        if mod is None or not getattr(mod, "__file__", None):
            continue
        base = os.path.dirname(mod.__file__)
        for folder in (base + ".libs", os.path.join(base, ".dylibs")):
            for path in sorted(glob.glob(os.path.join(folder, "*"))):
                if any(n in os.path.basename(path).lower() for n in _NAMES) and path not in paths:
                    paths.append(path)
    return paths


def blas_controls() -> list[tuple]:
    """``(set_threads, get_threads)`` for each BLAS library loaded in this process whose threads can be set."""
    import numpy  # noqa: F401  - numpy's BLAS is loaded with numpy
    controls = []
    for path in _loaded_paths():
        if path not in _libraries:
            try:
                _libraries[path] = ctypes.CDLL(path)
            except OSError:
                _libraries[path] = None
        lib = _libraries[path]
        if lib is None:
            continue
        for set_name, get_name in _PAIRS:
            setter, getter = getattr(lib, set_name, None), getattr(lib, get_name, None)
            if setter is not None and getter is not None:
                setter.restype, getter.restype = None, ctypes.c_int
                setter.argtypes, getter.argtypes = [ctypes.c_int], []
                controls.append((setter, getter))
                break
    return controls


@contextmanager
def one_blas_thread():
    """Run the block with every BLAS library of the process set to one thread (see the module docstring)."""
    global _depth
    with _lock:
        if _depth == 0:
            try:
                controls = blas_controls()
                _saved[:] = [(setter, getter()) for setter, getter in controls]
                for setter, _ in _saved:
                    setter(1)
            except (OSError, AttributeError, ValueError):    # a library that will not say: leave BLAS alone
                _saved.clear()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                for setter, n in _saved:
                    setter(max(int(n), 1))
                _saved.clear()
