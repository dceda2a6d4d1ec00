"""What needs two dates, and the attributes a one-date dataset carries."""

from __future__ import annotations

from sarbd.signatures.dates import MULTI_DATE_INPUTS, date_attributes, needs_two_dates
from sarbd.signatures.registry import all_signatures


def test_coherence_and_temporal_statistics_need_two_dates_backscatter_does_not():
    by_name = {s.name: s for s in all_signatures()}
    assert needs_two_dates(by_name["coherence_mean"])
    assert not needs_two_dates(by_name["sigma0_db"])
    assert all(
        needs_two_dates(s) == any(r.partition(":")[0] in MULTI_DATE_INPUTS for r in s.inputs)
        for s in all_signatures()
    )


def test_date_attributes():
    assert date_attributes(3) == {"sarbd_dates": 3}
    one = date_attributes(1, ["coherence_mean_vv", "backscatter_std_vv"])
    assert one["sarbd_single_date"] == 1 and one["sarbd_dates"] == 1
    assert one["sarbd_signatures_left_out"] == "coherence_mean_vv, backscatter_std_vv"
