"""Write small Envisat ASAR IMS (``ASA_IMS_1P``) / ERS SLC (``SAR_IMS_1P``) products for tests.

No public ``.N1``/``.E1``/``.E2`` file is reachable from this project (GDAL's Envisat tests
download theirs at run time), so the reader is tested on products written here in the
Envisat product format of ESA's *ASAR Product Handbook* (issue 2.2, 2007; ch. 6: MPH
1247 bytes, SPH with data-set descriptors of 280 bytes, MJD2000 times of 12 bytes,
big-endian records): the Main Processing Parameters ADS (2009-byte record), the
Geolocation Grid ADS (521-byte records, 11 tie points across each granule edge) and
MDS1 (17-byte line header + big-endian CInt16 samples). GDAL's ``ESAT`` driver opens
these files; that is part of what the tests check.

The orbit is the simulator's analytic circular orbit (5 state vectors, as in the ADS);
tie points are computed from the analytic satellite state with ``scipy.optimize.fsolve``
on the range-Doppler equations, independently of sarbd's geometry, at height 0.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np

from sarbd.core.ellipsoid import llh_to_ecef
from sarbd.simulate.orbit import design_orbit, make_orbit, orbit_state_vectors
from tests.products.rs2_writer import _solve_ground

C = 299_792_458.0
MJD2000 = np.datetime64("2000-01-01T00:00:00", "ns")


def mjd(t: np.datetime64) -> bytes:
    """12-byte MJD2000: days (int32), seconds (uint32), microseconds (uint32), big-endian."""
    us = int((np.datetime64(t, "ns") - MJD2000) / np.timedelta64(1, "us"))
    days, rem = divmod(us, 86_400_000_000)
    sec, micro = divmod(rem, 1_000_000)
    return struct.pack(">iII", days, sec, micro)


def _ascii_time(t: np.datetime64) -> str:
    s = str(np.datetime64(t, "us"))  # 2008-06-12T09:30:12.123456
    months = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    y, m, d = s[:4], int(s[5:7]), s[8:10]
    return f"{d}-{months[m - 1]}-{y} {s[11:]}"


def _header(lines: list[str], size: int) -> bytes:
    text = "".join(f"{x}\n" for x in lines).encode("ascii")
    assert len(text) <= size, (len(text), size)
    return text + b" " * (size - len(text) - 1) + b"\n" if len(text) < size else text


def write_envisat_ims(
    path: Path,
    *,
    lines: int = 120,
    pixels: int = 90,
    mission: str = "ENVISAT",
    pass_direction: str = "descending",
    ads_time_shift: float = 0.0,
    scene_height: float = 0.0,
    corrections_applied: bool = False,
) -> dict[str, Any]:
    """Write an IMS product to ``path``; returns the truth (grid, pixels, tie points, orbit).

    ``ads_time_shift`` (s) mislabels the MPP ADS state vectors by that time (an along-track
    error of ~7.5 km/s x shift, like a restituted orbit's), while the tie points stay on the
    true orbit (``truth["orbit"]``, ``truth["elements"]``: what a precise DORIS file gives).
    ``corrections_applied`` sets the MPP ADS's antenna-pattern and range-spreading flags
    (bytes 121 and 126; 0 in every real IMS, 1 to exercise the calibration path).
    ``scene_height`` (m above the ellipsoid) goes into the MPP ADS's average scene height
    (byte 1541) and the tie points are located at that height, as ASAR's processor does.
    """
    lat0, lon0 = 41.9, 12.5
    el = design_orbit(lat0, lon0, 0.0, 23.0, pass_direction=pass_direction)
    epoch = np.datetime64("2008-06-12T09:30:00", "ns")
    fs, prf, fc = 19.207680e6, 1652.4156, 5.331004e9
    dt, dr = 1.0 / prf, C / (2 * fs)
    from scipy.optimize import brentq

    p0 = llh_to_ecef(np.array([lat0]), np.array([lon0]), np.array([0.0]))[0]
    tc = brentq(
        lambda t: float(
            (p0 - orbit_state_vectors(el, np.array([t]))[0][0])
            @ orbit_state_vectors(el, np.array([t]))[1][0]
        ),
        -30,
        30,
        xtol=1e-12,
    )
    rc = float(np.linalg.norm(p0 - orbit_state_vectors(el, np.array([tc]))[0][0]))
    t0 = round(tc - dt * lines / 2, 6)
    r0 = rc - dr * pixels / 2
    orbit = make_orbit(el, epoch, t0 - 12, t0 + 12, spacing=5.0)  # 5 or 6 vectors around the scene
    sv_idx = np.arange(5) + max(0, (len(orbit) - 5) // 2)
    ads = make_orbit(el, epoch, t0 - 12, t0 + 12, spacing=5.0, time_shift=ads_time_shift)

    def at(t: float) -> np.datetime64:
        return epoch + np.timedelta64(round(t * 1e9), "ns")

    # ---- Main Processing Parameters ADS (one 2009-byte record) ----
    mpp = bytearray(2009)
    mpp[0:12] = mjd(at(t0))
    mpp[13:25] = mjd(at(t0 + dt * (lines - 1)))
    mpp[41:44] = b"IS2"
    mpp[44:56] = struct.pack(">fff", dr, 4.0, dt)
    mpp[56:64] = struct.pack(">II", lines, pixels)
    mpp[64:69] = b"SWORD"
    mpp[120] = 1  # data_analysis_flag
    mpp[121] = mpp[126] = int(corrections_applied)  # ant_elev_corr_flag, range_spread_comp_flag
    mpp[703:707] = struct.pack(">f", prf)
    mpp[983:991] = struct.pack(">ff", fs, fc)
    ext_cal = 46_383.0  # IS2 order of magnitude (ASAR external calibration constants, 10*log10 K ~ 46.7 dB)
    mpp[1381:1385] = struct.pack(">f", ext_cal)
    mpp[1541:1545] = struct.pack(">f", scene_height)  # avg_scene_height_ellpsoid
    for k, i in enumerate(sv_idx):
        o = 1765 + 36 * k
        mpp[o : o + 12] = mjd(ads.times[i])
        pos = np.round(ads.positions[i] * 100).astype(np.int64)  # 1e-2 m
        vel = np.round(ads.velocities[i] * 1e5).astype(np.int64)  # 1e-5 m/s
        mpp[o + 12 : o + 36] = struct.pack(">6i", *pos.tolist(), *vel.tolist())
    # ---- Geolocation Grid ADS: granules of 40 lines, 11 tie points each edge ----
    samp = np.linspace(1, pixels, 11).round().astype(int)  # 1-based sample numbers
    granule = 40
    ties = []
    geo = bytearray()
    for g0 in range(0, lines, granule):
        n = min(granule, lines - g0)
        rec = bytearray(521)
        rec[13:21] = struct.pack(">II", g0 + 1, n)
        for off, line in ((25, g0), (279, g0 + n - 1)):
            t = t0 + dt * line
            rec[off - 12 if off == 279 else 0 : off if off == 279 else 12] = mjd(at(t))
            lat, lon, srt, inc = [], [], [], []
            for s in samp:
                r = r0 + dr * (s - 1)
                la, lo = _solve_ground(el, t, r, scene_height, (lat0, lon0))
                lat.append(round(la * 1e6))
                lon.append(round(lo * 1e6))
                srt.append(2 * r / C * 1e9)
                pos = orbit_state_vectors(el, np.array([t]))[0][0]
                gp = llh_to_ecef(np.array([la]), np.array([lo]), np.array([scene_height]))[0]
                up = gp / np.linalg.norm(gp)
                inc.append(float(np.degrees(np.arccos((pos - gp) @ up / np.linalg.norm(pos - gp)))))
                ties.append((line, s - 1, la, lo))
            rec[off : off + 44] = struct.pack(">11I", *samp.tolist())
            rec[off + 44 : off + 88] = struct.pack(">11f", *srt)
            rec[off + 88 : off + 132] = struct.pack(">11f", *inc)
            rec[off + 132 : off + 176] = struct.pack(">11i", *lat)
            rec[off + 176 : off + 220] = struct.pack(">11i", *lon)
        geo += rec
    n_geo = len(geo) // 521
    # ---- Doppler Centroid ADS (one 55-byte record, mid-image) ----
    dop_t0 = 2 * (r0 + dr * pixels / 2) / C
    dop_coef = (-604.6025390625, -457815.625, 160870096.0, 0.0, 0.0)  # float32-exact values
    dop = bytearray(55)
    dop[0:12] = mjd(at(t0 + dt * lines / 2))
    dop[13:37] = struct.pack(">6f", dop_t0 * 1e9, *dop_coef)
    dop[37:41] = struct.pack(">f", 0.99)
    # ---- MDS1 ----
    rng = np.random.default_rng(3)
    i_ = rng.integers(-500, 500, size=(lines, pixels), dtype=np.int16)
    q_ = rng.integers(-500, 500, size=(lines, pixels), dtype=np.int16)
    iq = np.empty((lines, 2 * pixels), dtype=">i2")
    iq[:, 0::2], iq[:, 1::2] = i_, q_
    mds = bytearray()
    for k in range(lines):
        mds += mjd(at(t0 + dt * k)) + b"\x00" + struct.pack(">I", k + 1) + iq[k].tobytes()
    dsr = 17 + 4 * pixels
    # ---- headers ----
    dsds = [
        ("MDS1 SQ ADS", "A", 0, 0, 0),
        ("MAIN PROCESSING PARAMS ADS", "A", len(mpp), 1, 2009),
        ("DOP CENTROID COEFFS ADS", "A", len(dop), 1, 55),
        ("GEOLOCATION GRID ADS", "A", len(geo), n_geo, 521),
        ("MDS1", "M", len(mds), lines, dsr),
    ]
    sph_keys = [
        'SPH_DESCRIPTOR="Image Mode SLC Image      "',
        "STRIPLINE_CONTINUITY_INDICATOR=+000",
        f'FIRST_LINE_TIME="{_ascii_time(at(t0))}"',
        f'LAST_LINE_TIME="{_ascii_time(at(t0 + dt * (lines - 1)))}"',
        f'PASS="{"DESCENDING" if pass_direction == "descending" else "ASCENDING "}"',
        'SAMPLE_TYPE="COMPLEX "',
        f"LINE_LENGTH=+{pixels:06d}<samples>",
        f"RANGE_SPACING=+{dr:.8e}<m>",
        "AZIMUTH_SPACING=+4.00000000e+00<m>",
        f"LINE_TIME_INTERVAL=+{dt:.8e}<s>",
        'DATA_TYPE="SWORD"',
        'SWATH="IS2"',
        'MDS1_TX_RX_POLAR="V/V"',
        'MDS2_TX_RX_POLAR="   "',
        'ALGORITHM="RAN/DOP"',
    ]
    sph_text = "".join(f"{x}\n" for x in sph_keys).encode()
    dsd_size = 280
    sph_size = len(sph_text) + dsd_size * len(dsds)
    offset = 1247 + sph_size
    dsd_blob = bytearray()
    payloads = {
        "MAIN PROCESSING PARAMS ADS": mpp,
        "DOP CENTROID COEFFS ADS": dop,
        "GEOLOCATION GRID ADS": geo,
        "MDS1": mds,
    }
    for name, typ, size, num, rsize in dsds:
        off = offset if size else 0
        d = (
            f'DS_NAME="{name:<28}"\nDS_TYPE={typ}\nFILENAME="{"" if size else "NOT USED":<62}"\n'
            f"DS_OFFSET=+{off:020d}<bytes>\nDS_SIZE=+{size:020d}<bytes>\nNUM_DSR=+{num:010d}\n"
            f"DSR_SIZE={rsize:+011d}<bytes>\n"
        ).encode()
        dsd_blob += d + b" " * (dsd_size - len(d) - 1) + b"\n"
        offset += size
    product = f"{'ASA' if mission == 'ENVISAT' else 'SAR'}_IMS_1PNPDE20080612_093012_000000162069_00079_32912_0001.N1"
    tot = 1247 + sph_size + sum(len(p) for p in payloads.values())
    mph = _header(
        [
            f'PRODUCT="{product:<62}"',
            "PROC_STAGE=N",
            'REF_DOC="PO-RS-MDA-GS-2009_4/C      "',
            " " * 40,
            'ACQUISITION_STATION="PDHS-E              "',
            'PROC_CENTER="PDHS-E"',
            f'PROC_TIME="{_ascii_time(epoch)}"',
            'SOFTWARE_VER="ASAR/4.05  "',
            " " * 40,
            f'SENSING_START="{_ascii_time(at(t0))}"',
            f'SENSING_STOP="{_ascii_time(at(t0 + dt * (lines - 1)))}"',
            " " * 40,
            "PHASE=X",
            "CYCLE=+069",
            "REL_ORBIT=+00079",
            "ABS_ORBIT=+32912",
            f'STATE_VECTOR_TIME="{_ascii_time(orbit.times[sv_idx[2]])}"',
            "DELTA_UT1=+.000000<s>",
            "X_POSITION=+0000000.000<m>",
            "Y_POSITION=+0000000.000<m>",
            "Z_POSITION=+0000000.000<m>",
            "X_VELOCITY=+0000.000000<m/s>",
            "Y_VELOCITY=+0000.000000<m/s>",
            "Z_VELOCITY=+0000.000000<m/s>",
            'VECTOR_SOURCE="PC"',
            " " * 40,
            'UTC_SBT_TIME="12-JUN-2008 00:00:00.000000"',
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
            f"NUM_DSD=+{len(dsds):010d}",
            f"DSD_SIZE=+{dsd_size:010d}<bytes>",
            "NUM_DATA_SETS=+0000000003",
        ],
        1247,
    )
    with open(path, "wb") as f:
        f.write(mph + sph_text + bytes(dsd_blob))
        for p in payloads.values():
            f.write(bytes(p))
    return {
        "t0": at(t0),
        "dt": dt,
        "r0": r0,
        "dr": dr,
        "fc": fc,
        "pixels_iq": (i_, q_),
        "ties": ties,
        "orbit": orbit,
        "ads_orbit": ads,
        "elements": el,
        "epoch": epoch,
        "sv_idx": sv_idx,
        "lines": lines,
        "pixels": pixels,
        "ext_cal": ext_cal,
        "doppler": (at(t0 + dt * lines / 2), float(np.float32(dop_t0 * 1e9)) * 1e-9, dop_coef),
    }
