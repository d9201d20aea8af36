"""Tests of envtrace._mc (sequential Monte Carlo p-values)."""

from __future__ import annotations

import numpy as np
import pytest

from envtrace import _mc
from envtrace.errors import InputError


def test_stop_count_is_where_the_full_p_value_can_no_longer_reach_alpha():
    assert _mc.stop_count(0.05, 999) == 50
    assert _mc.stop_count(0.05, 99) == 5
    assert _mc.stop_count(0.01, 99) == 1
    assert _mc.stop_count(None, 999) is None
    for h, n in ((50, 999), (5, 99), (10, 199)):
        # h exceedances already give a full-run p-value above 0.05
        assert (1 + h) / (n + 1) > 0.05
        assert (1 + h - 1) / (n + 1) <= 0.05 + 1e-12
    for bad in (0.0, 1.0, -0.1, 1.5):
        with pytest.raises(InputError):
            _mc.stop_count(bad, 99)


def test_sequential_p_values():
    p = _mc.sequential_p(np.array([0, 3, 5, 5]), np.array([99, 99, 20, 5]), 99, 5)
    np.testing.assert_allclose(p, [1 / 100, 4 / 100, 5 / 20, 1.0])
    full = _mc.sequential_p(np.array([0, 3, 5]), np.array([99, 99, 99]), 99, None)
    np.testing.assert_allclose(full, [1 / 100, 4 / 100, 6 / 100])
