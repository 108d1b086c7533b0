"""Row-wise reductions (sim/rules/arrays.py) against NumPy's own.

Each test names the equation it checks; float32 rules are compared to float32 precision, the rest exactly.
"""

from __future__ import annotations

import numpy as np

from sim.rules import arrays

F32 = 1e-6  # absolute tolerance for rules that compute in float32


def test_row_reductions_match_numpy_and_first_maximum_wins():
    """row_max / row_argmax / row_sum stand in for numpy's axis-1 reductions: same values, same tie rule."""
    a = np.array([[0.1, 0.7, 0.7], [0.9, 0.2, 0.9], [0.0, 0.0, 0.0], [0.3, 0.1, 0.5]], dtype=np.float32)
    best, index = arrays.row_argmax(a)
    np.testing.assert_array_equal(best, a.max(axis=1))
    np.testing.assert_array_equal(index, [1, 0, 0, 2])  # first maximal column, as numpy.argmax
    np.testing.assert_array_equal(arrays.row_max(a), a.max(axis=1))
    np.testing.assert_allclose(arrays.row_sum(a), a.sum(axis=1), atol=F32)
