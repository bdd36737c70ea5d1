"""numba, when installed: ``njit`` and the options every compiled kernel of the package uses.

Without numba ``AVAILABLE`` is False and ``njit`` leaves the functions plain Python; the
callers (``radio/propagation/_itm_jit.py``, ``pipeline/_engine_jit.py``) then take their numpy
paths.
"""

from __future__ import annotations

try:  # pragma: no cover - exercised by the environment, not by a test toggle
    from numba import njit
    AVAILABLE = True
except ImportError:  # pragma: no cover
    AVAILABLE = False

    def njit(*args, **kwargs):
        """Stand-in decorator: the functions stay plain Python (not used then)."""
        if args and callable(args[0]):
            return args[0]
        return lambda f: f


#: Options of every kernel: cached, no GIL, IEEE semantics (bit-identical to numpy).
JIT_OPTIONS = {"cache": True, "nogil": True, "fastmath": False, "error_model": "numpy"}

__all__ = ["AVAILABLE", "JIT_OPTIONS", "njit"]
