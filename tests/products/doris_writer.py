"""Write DORIS orbit files (``DOR_VOR_AX`` / ``DOR_POR_AX``) for tests, field by field after the format.

No real DOR_VOR file is in any repository reachable from this project (ESA distributes
them after registration), so the reader is tested on files written here in the layout of
ESA's *Readme file for Envisat DORIS POD* ch. 2 and *Envisat-1 Products Specifications*
(PO-RS-MDA-GS-2009) vol. 5, with the record widths of ST&C's CODA definition
``ENVISAT_AUX/Orbit_Vectors_MDSR``: an MPH of 1247 bytes; an SPH of 378 bytes
(``SPH_DESCRIPTOR`` line of 46 bytes, a 52-byte spare line, one 280-byte data-set
descriptor); ``NUM_DSR`` records of 129 bytes, a minute apart (1589 over the 26 h 28 min
validity period of an Envisat file: 206 606 bytes in all, the size real files have).

State vectors come from the simulator's analytic orbit, exactly (rounded to the record's
mm and um/s).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from sarbd.simulate.orbit import OrbitElements, orbit_state_vectors
from tests.products.envisat_writer import _ascii_time, _header


def dor_name(kind: str, created: np.datetime64, start: np.datetime64, stop: np.datetime64) -> str:
    def c(t: np.datetime64) -> str:
        s = str(np.datetime64(t, "s"))
        return f"{s[0:4]}{s[5:7]}{s[8:10]}_{s[11:13]}{s[14:16]}{s[17:19]}"

    return f"DOR_{kind}_AXVF-P{c(created)}_{c(start)}_{c(stop)}"


def record(
    t: np.datetime64,
    pos: np.ndarray,
    vel: np.ndarray,
    *,
    delta_ut1: float = 0.2873,
    abs_orbit: int = 32912,
    quality: str = "000000",
) -> bytes:
    """One 129-byte orbit record (CODA ``Orbit_Vectors_MDSR`` widths)."""
    dut1 = f"{'+' if delta_ut1 >= 0 else '-'}.{round(abs(delta_ut1) * 1e6):06d}"  # 8 chars
    text = (
        f"{_ascii_time(t)} {dut1} {abs_orbit:+06d} "
        + " ".join(f"{v:+012.3f}" for v in pos)
        + " "
        + " ".join(f"{v:+012.6f}" for v in vel)
        + f" {quality}\n"
    )
    out = text.encode("ascii")
    assert len(out) == 129, (len(out), text)
    return out


def write_dor_vor(
    folder: Path,
    elements: OrbitElements,
    epoch: np.datetime64,
    acquisition: np.datetime64,
    *,
    kind: str = "VOR",
    created: np.datetime64 = np.datetime64("2012-04-24T12:02:00", "ns"),
    n_records: int = 1589,
) -> dict[str, Any]:
    """Write a DORIS orbit file covering ``acquisition`` into ``folder``; returns path and truth.

    As ESA's files: validity from 21:55:28 UTC the day before the acquisition's day, one
    vector a minute.
    """
    day = np.datetime64(acquisition, "D")
    start = (day - np.timedelta64(1, "D")).astype("datetime64[ns]") + np.timedelta64(
        21 * 3600 + 55 * 60 + 28, "s"
    )
    step = np.timedelta64(60, "s")
    times = start + np.arange(n_records) * step
    stop = times[-1]
    t = ((times - np.datetime64(epoch, "ns")) / np.timedelta64(1, "s")).astype(np.float64)
    pos, vel = orbit_state_vectors(elements, t)
    name = dor_name(kind, created, start, stop)
    mds = b"".join(
        record(ti, p, v, abs_orbit=32911 + k // 101)
        for k, (ti, p, v) in enumerate(zip(times, pos, vel, strict=True))
    )
    ds_name = "DORIS PRECISE ORBIT" if kind == "VOR" else "DORIS PRELIMINARY ORBIT"
    sph = (
        f'SPH_DESCRIPTOR="{"DORIS " + ("Precise" if kind == "VOR" else "Prelim.") + " Orbit":<28}"\n'
    ).encode()
    sph += b" " * 51 + b"\n"
    mph_size, sph_size = 1247, 378
    dsd = (
        f'DS_NAME="{ds_name:<28}"\nDS_TYPE=M\nFILENAME="{"":<62}"\n'
        f"DS_OFFSET=+{mph_size + sph_size:020d}<bytes>\nDS_SIZE=+{len(mds):020d}<bytes>\n"
        f"NUM_DSR=+{n_records:010d}\nDSR_SIZE=+{129:010d}<bytes>\n"
    ).encode()
    dsd += b" " * (280 - len(dsd) - 1) + b"\n"
    sph += dsd
    assert len(sph) == sph_size, len(sph)
    tot = mph_size + sph_size + len(mds)
    mph = _header(
        [
            f'PRODUCT="{name:<62}"',
            "PROC_STAGE=V",
            'REF_DOC="PO-RS-MDA-GS-2009_15/B     "',
            " " * 40,
            'ACQUISITION_STATION="DORIS               "',
            'PROC_CENTER="F-P   "',
            f'PROC_TIME="{_ascii_time(created)}"',
            'SOFTWARE_VER="GDR-F       "',
            " " * 40,
            f'SENSING_START="{_ascii_time(start)}"',
            f'SENSING_STOP="{_ascii_time(stop)}"',
            " " * 40,
            "PHASE=X",
            "CYCLE=+000",
            "REL_ORBIT=+00000",
            "ABS_ORBIT=+32911",
            'STATE_VECTOR_TIME="                           "',
            "DELTA_UT1=+.000000<s>",
            "X_POSITION=+0000000.000<m>",
            "Y_POSITION=+0000000.000<m>",
            "Z_POSITION=+0000000.000<m>",
            "X_VELOCITY=+0000.000000<m/s>",
            "Y_VELOCITY=+0000.000000<m/s>",
            "Z_VELOCITY=+0000.000000<m/s>",
            'VECTOR_SOURCE="  "',
            " " * 40,
            'UTC_SBT_TIME="                           "',
            "SAT_BINARY_TIME=+0000000000",
            "CLOCK_STEP=+0000000000<ps>",
            " " * 32,
            'LEAP_UTC="                           "',
            "LEAP_SIGN=+000",
            "LEAP_ERR=0",
            " " * 40,
            "PRODUCT_ERR=0",
            f"TOT_SIZE=+{tot:020d}<bytes>",
            f"SPH_SIZE=+{sph_size:010d}<bytes>",
            "NUM_DSD=+0000000001",
            "DSD_SIZE=+0000000280<bytes>",
            "NUM_DATA_SETS=+0000000001",
        ],
        mph_size,
    )
    assert len(mph) == mph_size
    path = Path(folder) / name
    path.write_bytes(mph + sph + mds)
    return {
        "path": path,
        "times": times,
        "positions": np.round(pos, 3),
        "velocities": np.round(vel, 6),
        "start": start,
        "stop": stop,
    }
