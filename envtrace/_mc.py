"""Sequential Monte Carlo p-values (Besag & Clifford 1991), shared by the event scan and
the suspects' wind-shift test.

A Monte Carlo test with ``R`` replicates gives ``p = (1 + g) / (R + 1)``, ``g`` the number
of replicates at least as extreme as the observed statistic. Once ``h = ⌈α (R + 1)⌉``
replicates have reached it, that full-run p-value is certain to exceed ``α`` whatever the
remaining replicates do, so the test can stop: Besag & Clifford's sequential p-value is
then ``h / L`` after ``L`` replicates, a valid p-value of its own. Statistics that are
never reached that often run all ``R`` replicates and keep the ordinary value, so no
decision at level ``α`` changes, while the many unremarkable statistics stop early.
"""

from __future__ import annotations

import math

import numpy as np

from envtrace.errors import InputError

__all__ = ["stop_count", "sequential_p"]


def stop_count(alpha: float | None, n_perm: int) -> int | None:
    """Exceedances ``h = ⌈alpha (n_perm + 1)⌉`` after which a test stops (None: never)."""
    if alpha is None:
        return None
    a = float(alpha)
    if not 0.0 < a < 1.0:
        raise InputError("the sequential stopping level must lie in (0, 1), or be None")
    return max(1, math.ceil(a * (int(n_perm) + 1) - 1e-9))


def sequential_p(exceed: np.ndarray, ran: np.ndarray, n_perm: int, h: int | None) -> np.ndarray:
    """P-values from exceedance counts and replicates run.

    ``h / ran`` where the test stopped (``exceed >= h``), else ``(1 + exceed) / (n_perm + 1)``.
    """
    exceed = np.asarray(exceed, dtype=float)
    ran = np.asarray(ran, dtype=float)
    full = (1.0 + exceed) / (int(n_perm) + 1.0)
    if h is None:
        return full
    return np.where(exceed >= h, h / np.maximum(ran, 1.0), full)
