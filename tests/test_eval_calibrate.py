"""The abstention sweep: hand-computed thresholds on recorded answers."""

from __future__ import annotations

import pytest

from eval.calibrate import Recorded, at_threshold, sweep


def test_at_threshold_counts_abstentions_and_crag() -> None:
    rows = [
        Recorded(True, 0.9, False, True),  # right, confident
        Recorded(True, 0.5, False, False),  # wrong, unsure
        Recorded(False, 0.4, False, False),  # null question
        Recorded(True, 0.9, True, False),  # abstained for another reason at any threshold
    ]
    figures = at_threshold(rows, 0.6)
    assert figures["null_abstention"] == 1.0
    assert figures["false_abstention"] == pytest.approx(2 / 3)
    assert figures["crag"] == pytest.approx((1 + 0 + 1 + 0) / 4)
    assert at_threshold(rows, 0.0)["crag"] == pytest.approx((1 - 1 - 1 + 0) / 4)


def test_sweep_respects_the_false_abstention_limit() -> None:
    rows = [Recorded(True, 0.8, False, True), Recorded(True, 0.5, False, False), Recorded(False, 0.45, False, False)]
    result = sweep({"a": rows}, max_false_abstention=0.0, grid=(0.4, 0.9, 0.05))
    # abstaining below 0.5 catches the null question without losing an answerable one
    assert result["chosen"]["threshold"] == pytest.approx(0.5)
    assert result["unconstrained"]["threshold"] > 0.5  # dropping the wrong answer too scores higher
