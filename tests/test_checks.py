"""The package's one range check (simulator._checks.check_range)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator import _checks
from simulator.radio.propagation import _common


def test_one_range_check_everywhere():
    from simulator.radio import antenna
    from simulator.radio.propagation import building_entry, hata, models, rma

    assert _common.check_range is _checks.check_range
    for mod in (antenna, building_entry, hata, models, rma):
        assert mod.check_range is _checks.check_range, mod.__name__


def test_message_names_value_range_and_unit():
    with pytest.raises(ValueError) as exc:
        _checks.check_range("frequency_mhz", [900.0, 20.0], 80.0, 1e5, "MHz")
    assert str(exc.value) == ("frequency_mhz=20 MHz is outside the allowed range "
                              "[80, 100000] MHz")
    with pytest.raises(ValueError, match=r"p=0 is outside the allowed range \(0, 100\)"):
        _checks.check_range("p", 0.0, 0.0, 100.0, lo_open=True, hi_open=True)


def test_nan_propagates_unless_finite():
    out = _checks.check_range("x", [np.nan, 1.0], 0.0, 2.0)
    assert np.isnan(out[0]) and out.dtype == np.float64
    for bad in (np.nan, np.inf):
        with pytest.raises(ValueError, match="x="):
            _checks.check_range("x", [1.0, bad], 0.0, None, finite=True)
    with pytest.raises(ValueError):                       # inf is compared with the bound
        _checks.check_range("x", np.inf, 0.0, 10.0)
    assert _checks.check_range("x", np.inf, 0.0, None) == np.inf


@given(st.floats(allow_nan=False, allow_infinity=False, width=32),
       st.floats(-1e6, 1e6), st.floats(0.0, 1e6), st.booleans(), st.booleans())
def test_accepts_exactly_the_interval(x, lo, width, lo_open, hi_open):
    hi = lo + width
    inside = (x > lo if lo_open else x >= lo) and (x < hi if hi_open else x <= hi)
    try:
        _checks.check_range("x", x, lo, hi, lo_open=lo_open, hi_open=hi_open)
        accepted = True
    except ValueError:
        accepted = False
    assert accepted == inside
