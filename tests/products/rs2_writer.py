"""Write small Radarsat-2 SLC products (product.xml, LUT XMLs, 2 x Int16 GeoTIFFs) for tests.

No public Radarsat-2 SLC product is reachable from this project (GDAL's
``autotest/gdrivers/data/rs2/product.xml`` is an artificial detected product with no
orbit; see ``tests/products/data/radarsat2/README.md``), so the readers are tested on
products written here in the layout of MDA's *RADARSAT-2 Product Format Definition*
(RN-RP-51-2713): same element names, nesting, units, orderings and two-sample
Int16 imagery. The orbit is the simulator's analytic circular orbit; the tie points
are computed here, **independently of sarbd's geometry**, from the analytic
satellite state at each line's time (no orbit interpolation) by solving the
range-Doppler equations with ``scipy.optimize.fsolve``.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import fsolve

from sarbd.core.ellipsoid import llh_to_ecef
from sarbd.simulate.orbit import design_orbit, make_orbit, orbit_state_vectors

C = 299_792_458.0
NS = "http://www.rsi.ca/rs2/prod/xml/schemas"


def _iso(t: np.datetime64) -> str:
    return str(np.datetime64(t, "us")) + "Z"


def _solve_ground(
    el: Any, t: float, r: float, h: float, guess: tuple[float, float]
) -> tuple[float, float]:
    """Geodetic (lat, lon) at height ``h`` with zero Doppler and slant range ``r`` from the analytic orbit."""
    s, v = orbit_state_vectors(el, np.array([t]))
    s, v = s[0], v[0]

    def eqs(x: np.ndarray) -> list[float]:
        p = llh_to_ecef(np.array([x[0]]), np.array([x[1]]), np.array([h]))[0]
        d = p - s
        return [(np.linalg.norm(d) - r), float(d @ v) / np.linalg.norm(v)]

    sol, _info, _ier, msg = fsolve(eqs, np.array(guess), xtol=1e-13, full_output=True)
    # fsolve may stop at the float64 floor and say so; what matters is the residual (m)
    assert np.max(np.abs(eqs(sol))) < 1e-5, msg
    return float(sol[0]), float(sol[1])


def write_rs2_product(
    folder: Path,
    *,
    lines: int = 200,
    pixels: int = 150,
    line_order: str = "Increasing",
    pixel_order: str = "Increasing",
    pass_direction: str = "descending",
    look_side: str = "right",
    pols: tuple[str, ...] = ("HH", "HV"),
) -> dict[str, Any]:
    """Write a product into ``folder``; returns the truth (grid, pixel arrays in file order, LUTs)."""
    import rasterio
    import rasterio.errors

    folder.mkdir(parents=True, exist_ok=True)
    lat0, lon0, inc = 45.4, -75.7, 35.0
    el = design_orbit(lat0, lon0, 0.0, inc, pass_direction=pass_direction, look_side=look_side)
    epoch = np.datetime64("2017-04-30T08:42:50", "ns")
    dt, dr = 7.5e-3, 20.0
    # zero-Doppler time and range of the design target, from the analytic orbit
    p0 = llh_to_ecef(np.array([lat0]), np.array([lon0]), np.array([0.0]))[0]
    from scipy.optimize import brentq

    def dop(t: float) -> float:
        s, v = orbit_state_vectors(el, np.array([t]))
        return float((p0 - s[0]) @ v[0])

    tc = brentq(dop, -30.0, 30.0, xtol=1e-12)
    rc = float(np.linalg.norm(p0 - orbit_state_vectors(el, np.array([tc]))[0][0]))
    t_start = round(tc - dt * lines / 2, 6)  # on a whole microsecond, as product.xml times are
    r_near = rc - dr * pixels / 2
    orbit = make_orbit(el, epoch, t_start - 20, t_start + dt * lines + 20, spacing=10.0)
    t_lines = t_start + dt * np.arange(lines)  # grid (increasing) order
    t_file = t_lines[::-1] if line_order == "Decreasing" else t_lines
    r_file = r_near + dr * np.arange(pixels)
    r_file = r_file[::-1] if pixel_order == "Decreasing" else r_file

    def at(t: float) -> np.datetime64:
        return epoch + np.timedelta64(round(t * 1e9), "ns")

    rng = np.random.default_rng(17)
    images = {}
    for pol in pols:
        i = rng.integers(-300, 300, size=(lines, pixels), dtype=np.int16)
        q = rng.integers(-300, 300, size=(lines, pixels), dtype=np.int16)
        images[pol] = (i, q)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
            with rasterio.open(
                folder / f"imagery_{pol}.tif",
                "w",
                driver="GTiff",
                width=pixels,
                height=lines,
                count=2,
                dtype="int16",
            ) as ds:
                ds.write(np.stack([i, q]))
    gains = {
        kind: 300.0 + 2.0 * k + 0.5 * np.arange(pixels)
        for k, kind in enumerate(("Sigma", "Beta", "Gamma"))
    }
    for kind, g in gains.items():
        (folder / f"lut{kind}.xml").write_text(
            f'<?xml version="1.0" encoding="UTF-8"?>\n<lut xmlns="{NS}">\n  <productId>PDS_TEST</productId>\n'
            f"  <offset>0.000000e+00</offset>\n  <gains>{' '.join(f'{x:.6e}' for x in g)}</gains>\n</lut>\n"
        )
    # tie points on a 5 x 4 grid of file lines/pixels, at two heights
    ties = []
    for fl in np.linspace(0, lines - 1, 5):
        for fp in np.linspace(0, pixels - 1, 4):
            h = 120.0 if (fl + fp) % 2 else 0.0
            t = float(np.interp(fl, np.arange(lines), t_file))
            r = float(np.interp(fp, np.arange(pixels), r_file))
            la, lo = _solve_ground(el, t, r, h, (lat0, lon0))
            ties.append((fl, fp, la, lo, h))
    sv = "\n".join(
        f"      <stateVector><timeStamp>{_iso(orbit.times[k])}</timeStamp>"
        + "".join(
            f'<{a}Position units="m">{orbit.positions[k, j]:.6f}</{a}Position>'
            for j, a in enumerate("xyz")
        )
        + "".join(
            f'<{a}Velocity units="m/s">{orbit.velocities[k, j]:.9f}</{a}Velocity>'
            for j, a in enumerate("xyz")
        )
        + "</stateVector>"
        for k in range(len(orbit))
    )
    tp = "\n".join(
        f"        <imageTiePoint><imageCoordinate><line>{a:.8e}</line><pixel>{b:.8e}</pixel></imageCoordinate>"
        f'<geodeticCoordinate><latitude units="deg">{c:.15e}</latitude><longitude units="deg">{d:.15e}</longitude>'
        f'<height units="m">{e:.15e}</height></geodeticCoordinate></imageTiePoint>'
        for a, b, c, d, e in ties
    )
    data = "\n".join(
        f'    <fullResolutionImageData pole="{pol}">imagery_{pol}.tif</fullResolutionImageData>'
        for pol in pols
    )
    # Doppler centroid estimate at mid-image, referenced to mid-swath (two-way range time)
    dc_time = t_start + dt * (lines - 1) / 2
    dc_t0 = 2 * (r_near + dr * (pixels - 1) / 2) / C
    dc_coef = (31.25, -1.5e4, 2.0e6)
    xml = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<product xmlns="{NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <productId>PDS_TEST</productId>
  <sourceAttributes>
    <satellite>RADARSAT-2</satellite>
    <sensor>SAR</sensor>
    <beamModeMnemonic>F2</beamModeMnemonic>
    <rawDataStartTime>{_iso(at(t_start - 1.0))}</rawDataStartTime>
    <radarParameters>
      <acquisitionType>Fine</acquisitionType>
      <polarizations>{" ".join(pols)}</polarizations>
      <radarCenterFrequency units="Hz">5.40500000e+09</radarCenterFrequency>
      <pulseRepetitionFrequency>1.32888160e+03</pulseRepetitionFrequency>
      <antennaPointing>{look_side.title()}</antennaPointing>
    </radarParameters>
    <orbitAndAttitude>
      <orbitInformation>
        <passDirection>{pass_direction.title()}</passDirection>
        <orbitDataSource>Downlinked</orbitDataSource>
        <orbitDataFile>TEST.ORB</orbitDataFile>
{sv}
      </orbitInformation>
    </orbitAndAttitude>
  </sourceAttributes>
  <imageGenerationParameters>
    <generalProcessingInformation>
      <productType>SLC</productType>
      <softwareVersion>MDA GSP 2.7.2</softwareVersion>
    </generalProcessingInformation>
    <sarProcessingInformation>
      <zeroDopplerTimeFirstLine>{_iso(at(t_file[0]))}</zeroDopplerTimeFirstLine>
      <zeroDopplerTimeLastLine>{_iso(at(t_file[-1]))}</zeroDopplerTimeLastLine>
      <slantRangeNearEdge units="m">{r_near:.6f}</slantRangeNearEdge>
      <incidenceAngleNearRange units="deg">34.9</incidenceAngleNearRange>
      <incidenceAngleFarRange units="deg">35.1</incidenceAngleFarRange>
    </sarProcessingInformation>
    <dopplerCentroid>
      <timeOfDopplerCentroidEstimate>{_iso(at(dc_time))}</timeOfDopplerCentroidEstimate>
      <dopplerAmbiguity>0</dopplerAmbiguity>
      <dopplerAmbiguityConfidence>1.0</dopplerAmbiguityConfidence>
      <dopplerCentroidReferenceTime units="s">{dc_t0:.12e}</dopplerCentroidReferenceTime>
      <dopplerCentroidPolynomialPeriod units="s">1.0</dopplerCentroidPolynomialPeriod>
      <dopplerCentroidCoefficients>{" ".join(f"{c:.9e}" for c in dc_coef)}</dopplerCentroidCoefficients>
      <dopplerCentroidConfidence>0.9</dopplerCentroidConfidence>
    </dopplerCentroid>
  </imageGenerationParameters>
  <imageAttributes>
    <productFormat>GeoTIFF</productFormat>
    <rasterAttributes>
      <dataType>Complex</dataType>
      <bitsPerSample dataStream="Complex">16</bitsPerSample>
      <numberOfSamplesPerLine>{pixels}</numberOfSamplesPerLine>
      <numberOfLines>{lines}</numberOfLines>
      <sampledPixelSpacing units="m">{dr:.8e}</sampledPixelSpacing>
      <sampledLineSpacing units="m">5.1</sampledLineSpacing>
      <lineTimeOrdering>{line_order}</lineTimeOrdering>
      <pixelTimeOrdering>{pixel_order}</pixelTimeOrdering>
    </rasterAttributes>
    <geographicInformation>
      <geolocationGrid>
{tp}
      </geolocationGrid>
    </geographicInformation>
    <lookupTable incidenceAngleCorrection="Beta Nought">lutBeta.xml</lookupTable>
    <lookupTable incidenceAngleCorrection="Sigma Nought">lutSigma.xml</lookupTable>
    <lookupTable incidenceAngleCorrection="Gamma">lutGamma.xml</lookupTable>
{data}
  </imageAttributes>
</product>
"""
    (folder / "product.xml").write_text(xml)
    return {
        "epoch": epoch,
        "t_start": at(t_start),
        "dt": dt,
        "r_near": r_near,
        "dr": dr,
        "images": images,
        "gains": gains,
        "ties": ties,
        "orbit": orbit,
        "elements": el,
        "doppler": (at(dc_time), float(f"{dc_t0:.12e}"), dc_coef),
        "lines": lines,
        "pixels": pixels,
    }
