"""``simulate_scene``: landscape, reference vectors, DEM, SLCs of every date, and the truth."""

from __future__ import annotations

import contextlib
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sarbd.core.ellipsoid import llh_to_ecef
from sarbd.simulate import sensor as S
from sarbd.simulate.acquisition import DatePlan, plan_acquisitions
from sarbd.simulate.config import CLASSES, SIZES, SimulationConfig
from sarbd.simulate.imaging import BLOCK_LINES, TruthRows, _to_map, form_images, scatterer_frame
from sarbd.simulate.landscape import Landscape, make_landscape, rasterize_classes, rasterize_heights
from sarbd.simulate.reference import corrupt_reference
from sarbd.simulate.safe import SafeContent, SafeWriter, quantize, tops_phase
from sarbd.utils.files import atomic_output
from sarbd.utils.log import get_logger

__all__ = ["SimulatedScene", "simulate_scene"]

log = get_logger(__name__)

#: Reproducible timestamps inside GeoPackages.
_GPKG_DATE = "2000-01-01T00:00:00.000Z"


@dataclass(frozen=True)
class SimulatedScene:
    """Paths of a simulated scene.

    Attributes
    ----------
    root
        The output folder.
    safe
        One Sentinel-1 SAFE folder per date, reference date first.
    dem
        DEM GeoTIFF (EPSG:4326, heights above EGM96).
    reference_gpkg
        The reference vectors (with documented errors), one layer per class.
    truth_gpkg
        The true vectors, one layer per class.
    truth_dir
        Truth rasters (``truth.zarr``, ``class_map.tif``, ``class_map_radar.tif``)
        and JSON records (``scene.json``, ``corruption_log.json``).
    config
        The configuration used (``None`` for a scene opened with :meth:`open`).
    """

    root: Path
    safe: tuple[Path, ...]
    dem: Path
    reference_gpkg: Path
    truth_gpkg: Path
    truth_dir: Path
    config: SimulationConfig | None = field(default=None, repr=False)

    @classmethod
    def open(cls, root: str | Path) -> SimulatedScene:
        """The paths of a scene :func:`simulate_scene` wrote earlier into ``root`` (no configuration).

        Raises
        ------
        InputError
            ``root`` holds no SAFE folder, or lacks the DEM, the vectors or the truth folder.
        """
        from sarbd.errors import InputError

        r = Path(root)
        scene = cls(
            r,
            tuple(sorted(r.glob("*.SAFE"))),
            r / "dem.tif",
            r / "reference.gpkg",
            r / "truth.gpkg",
            r / "truth",
        )
        missing = [
            p.name
            for p in (scene.dem, scene.reference_gpkg, scene.truth_gpkg, scene.truth_dir)
            if not p.exists()
        ] + ([] if scene.safe else ["*.SAFE"])
        if missing:
            raise InputError(
                f"not a simulated scene folder (missing {', '.join(missing)})",
                path=r,
                hint="give the folder `sarbd simulate` wrote",
            )
        return scene


def _geoid() -> Any:
    from sarbd.geometry.geoid import geoid_height

    return geoid_height


def simulate_scene(
    out_dir: str | Path,
    *,
    size: str = "tiny",
    dates: int = 7,
    seed: int = 0,
    mode: str = "stripmap",
    block_lines: int = BLOCK_LINES,
    **options: Any,
) -> SimulatedScene:
    """Simulate a multi-date Sentinel-1-like scene with known truth.

    Parameters
    ----------
    out_dir
        Output folder (created; existing outputs of the same names are replaced).
    size
        ``"tiny"`` (160 x 320 px, for tests), ``"small"`` (1000 x 2500 px) or
        ``"burst"`` (1500 x 25000 px).
    dates
        Number of acquisitions, 12 days apart.
    seed
        Random seed; the same seed and options give the same bytes.
    mode
        ``"stripmap"`` or ``"tops"``.
    block_lines
        Lines per streamed block: the images and the truth are formed and written by blocks
        of about this many lines (memory grows with it; the bytes written do not depend on it).
    **options
        Any other :class:`~sarbd.simulate.config.SimulationConfig` field
        (``hilly``, ``centre_lat``, ``centre_lon``, ``crs``, ``nesz_db``, ...).

    Returns
    -------
    SimulatedScene
        Paths of everything written.
    """
    from sarbd.errors import ConfigError

    if size not in SIZES:
        raise ConfigError(f"unknown size {size!r}", hint=f"use one of {', '.join(SIZES)}")
    if mode not in ("stripmap", "tops"):
        raise ConfigError(f"unknown mode {mode!r}", hint="use stripmap or tops")
    if dates < 1:
        raise ConfigError(f"dates must be at least 1, got {dates}")
    try:
        cfg = SimulationConfig(size=size, dates=int(dates), seed=int(seed), mode=mode, **options)  # type: ignore[arg-type]
    except TypeError as exc:
        raise ConfigError(f"unknown simulation option ({exc})") from None
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    import time

    clock = time.perf_counter()

    def stage(name: str) -> None:
        log.info("simulate: %s done (%.1f s)", name, time.perf_counter() - clock)

    geoid = _geoid()
    rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, 0]))
    base = 120.0 if cfg.hilly else 1.0
    n_c = float(geoid(np.array([cfg.centre_lat]), np.array([cfg.centre_lon]))[0])
    plans = plan_acquisitions(cfg, base + n_c, rng)
    relief = 260.0 if cfg.hilly else 5.0
    margin = 40.0 + relief / math.tan(math.radians(cfg.incidence_mid_deg)) + 60.0
    frame = scatterer_frame(cfg, plans, base + n_c, margin)
    land = make_landscape(
        np.random.default_rng(np.random.SeedSequence([cfg.seed, 10])),
        frame.bounds(pad=40.0),
        cfg.crs,
        hilly=cfg.hilly,
    )
    targets = _sea_targets(cfg, land, frame, len(plans))
    changes = _land_changes(cfg, land, frame, len(plans))
    res = cfg.preset.map_resolution
    classes = rasterize_classes(land, res)
    heights = rasterize_heights(land, res)
    ref_layers, corruption_log = corrupt_reference(
        land, np.random.default_rng(np.random.SeedSequence([cfg.seed, 20])), cfg.corruption
    )

    truth_gpkg = _write_gpkg(out / "truth.gpkg", land.layers)
    reference_gpkg = _write_gpkg(out / "reference.gpkg", ref_layers)
    dem_path = _write_dem(out / "dem.tif", land, cfg, geoid)
    stage("landscape, reference vectors and DEM")

    log.info("forming %d images of %d x %d px", len(plans), *plans[0].grid.shape)
    height_fn = _ground_height_fn(land, cfg, geoid)
    ramps = {p.index: _tops_ramp(p, height_fn) for p in plans} if cfg.mode == "tops" else None

    def ramp(
        d: int, b: int, line: NDArray[np.float64], pixel: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        assert ramps is not None
        return ramps[d](b, line, pixel)

    metas = [
        _safe_content(cfg, plan, height_fn, None if ramps is None else ramps[plan.index])
        for plan in plans
    ]
    with contextlib.ExitStack() as writing:
        # the truth folder is entered first, so it is renamed into place last
        truth = writing.enter_context(_TruthWriter(out / "truth", cfg, plans, classes, height_fn))
        truth.set_calibration(metas[0])
        writers = [
            writing.enter_context(SafeWriter(out, m.content, m.line_times, m.footprint))
            for m in metas
        ]
        sink = _SceneSink(cfg, plans, metas, writers, ramps, truth)
        summary = form_images(
            cfg,
            plans,
            land,
            frame,
            classes,
            heights,
            geoid,
            ramp=ramp if ramps is not None else None,
            targets=targets,
            changes=changes,
            sink=sink,
            block_lines=block_lines,
        )
        stage(f"image formation and measurement lines ({summary.n_scatterers} scatterers)")
        safes = [w.target for w in writers]
        truth.finish(land, summary, corruption_log, metas, sink.clipped, safes)
    truth_dir = out / "truth"
    stage("SAFE products and truth")
    if targets is not None:
        from sarbd.simulate.targets import write_target_truth

        write_target_truth(
            truth_dir / "targets", targets, plans, height_fn, summary.target_positions, safes
        )
    if changes is not None:
        from sarbd.simulate.changes import write_change_truth

        write_change_truth(truth_dir / "changes", changes, plans, height_fn)
    stage("truth")
    return SimulatedScene(out, tuple(safes), dem_path, reference_gpkg, truth_gpkg, truth_dir, cfg)


def _sea_targets(cfg: SimulationConfig, land: Landscape, frame: Any, n_dates: int) -> Any:
    """Open sea, ships and oil slicks when ``cfg.targets`` asks for them (:mod:`sarbd.simulate.targets`)."""
    from sarbd.simulate.targets import add_sea, draw_targets, target_settings

    settings = target_settings(cfg.targets)
    if settings is None:
        return None
    sea = add_sea(
        land,
        frame,
        np.random.default_rng(np.random.SeedSequence([cfg.seed, 31])),
        settings.sea_fraction,
    )
    return draw_targets(settings, sea, n_dates, cfg.seed, cfg.crs, 299_792_458.0 / S.WAVELENGTH)


def _land_changes(cfg: SimulationConfig, land: Landscape, frame: Any, n_dates: int) -> Any:
    """New buildings, cleared vegetation, floods when ``cfg.changes`` asks for them (:mod:`sarbd.simulate.changes`)."""
    from shapely.geometry import Polygon

    from sarbd.simulate.changes import change_settings, draw_changes

    settings = change_settings(cfg.changes)
    if settings is None:
        return None
    ar = np.array(
        [[frame.a0, frame.r0], [frame.a1, frame.r0], [frame.a1, frame.r1], [frame.a0, frame.r1]]
    )
    xy = np.array(frame.origin) + ar[:, :1] * np.array(frame.e_a) + ar[:, 1:] * np.array(frame.e_r)
    return draw_changes(settings, land, Polygon(xy), n_dates, cfg.seed, cfg.crs)


# -- vectors and DEM -------------------------------------------------------------------------
def _write_gpkg(path: Path, layers: dict[str, Any]) -> Path:
    import pyogrio

    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": _GPKG_DATE})  # reproducible bytes
    try:
        with atomic_output(path) as tmp:
            tmp.unlink()
            for c in CLASSES:
                gdf = layers[c.name]
                pyogrio.write_dataframe(gdf, tmp, layer=c.name, driver="GPKG", append=tmp.exists())
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})
    return path


def _ground_height_fn(land: Landscape, cfg: SimulationConfig, geoid: Any) -> Any:
    fwd, _ = _to_map(cfg.crs)

    def height(lat: NDArray[np.float64], lon: NDArray[np.float64]) -> NDArray[np.float64]:
        """True ellipsoidal terrain height (m) at geodetic degrees."""
        x, y = fwd.transform(np.asarray(lon), np.asarray(lat))
        return np.asarray(land.terrain.height(np.asarray(x), np.asarray(y)) + geoid(lat, lon))

    return height


def _write_dem(path: Path, land: Landscape, cfg: SimulationConfig, geoid: Any) -> Path:
    """DEM on a geographic grid, heights above EGM96 (bare earth), like Copernicus DEM GLO-30."""
    import rasterio
    from rasterio.crs import CRS
    from rasterio.transform import from_origin

    _, inv = _to_map(cfg.crs)
    xmin, ymin, xmax, ymax = land.bounds
    lon, lat = inv.transform(np.array([xmin, xmin, xmax, xmax]), np.array([ymin, ymax, ymin, ymax]))
    step = cfg.preset.dem_spacing_arcsec / 3600.0
    lat0, lat1 = math.floor(min(lat) / step) * step - step, math.ceil(max(lat) / step) * step + step
    lon0, lon1 = math.floor(min(lon) / step) * step - step, math.ceil(max(lon) / step) * step + step
    ny = round((lat1 - lat0) / step) + 1
    nx = round((lon1 - lon0) / step) + 1
    glat = lat1 - np.arange(ny) * step
    glon = lon0 + np.arange(nx) * step
    fwd, _ = _to_map(cfg.crs)
    LON, LAT = np.meshgrid(glon, glat)
    x, y = fwd.transform(LON, LAT)
    dem = land.terrain.height(np.asarray(x), np.asarray(y)).astype(np.float32)
    # pixel-is-area GeoTIFF whose pixel centres are the grid nodes
    transform = from_origin(lon0 - step / 2, lat1 + step / 2, step, step)
    try:
        crs = CRS.from_user_input("EPSG:4326+5773")  # WGS 84 + EGM96 height
    except Exception:  # pragma: no cover - PROJ without the compound definition
        crs = CRS.from_epsg(4326)
    with atomic_output(path) as tmp:
        with rasterio.open(
            tmp,
            "w",
            driver="GTiff",
            width=nx,
            height=ny,
            count=1,
            dtype="float32",
            crs=crs,
            transform=transform,
            nodata=-32767.0,
            compress="deflate",
            predictor=3,
            tiled=True,
            blockxsize=256,
            blockysize=256,
        ) as ds:
            ds.write(dem, 1)
            ds.update_tags(
                VERTICAL_DATUM="EGM96", UNITS="metre", SOURCE="sarbd.simulate (bare-earth terrain)"
            )
            ds.set_band_description(1, "height above the EGM96 geoid")
    return path


# -- SAFE content ---------------------------------------------------------------------------
def _terrain_rdr2geo(
    t: NDArray[np.float64],
    r: NDArray[np.float64],
    plan: DatePlan,
    height_fn: Any,
    iterations: int = 6,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """rdr2geo onto the true terrain (fixed-point iteration on the height)."""
    from sarbd.simulate.imaging import _geometry

    rdr2geo, _ = _geometry()
    h = np.zeros(np.shape(t))
    for _ in range(iterations):
        lat, lon, _ = rdr2geo(t, r, plan.orbit, height=h)
        h = height_fn(lat, lon)
    lat, lon, hh = rdr2geo(t, r, plan.orbit, height=h)
    return lat, lon, hh


def _angles(
    lat: NDArray[np.float64],
    lon: NDArray[np.float64],
    h: NDArray[np.float64],
    sat: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Ellipsoid incidence and elevation (look) angles, degrees."""
    p = llh_to_ecef(lat, lon, h)
    d = sat - p
    d /= np.linalg.norm(d, axis=-1, keepdims=True)
    la, lo = np.radians(lat), np.radians(lon)
    n = np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=-1)
    inc = np.degrees(np.arccos(np.sum(d * n, axis=-1)))
    nadir = -sat / np.linalg.norm(sat, axis=-1, keepdims=True)
    elev = np.degrees(np.arccos(np.sum(-d * nadir, axis=-1)))
    return inc, elev


def _tops_ramp(plan: DatePlan, height_fn: Any) -> Any:
    """The deramping phase of each burst of a date, as a function ``(burst, line, pixel) -> phi``.

    ``line`` counts from the burst's first line; the FM rate, Doppler centroid and
    steering rate are those written in the annotation, and the speed is the orbit's at
    the burst centre, as a reader computes them (:func:`sarbd.simulate.safe.tops_phase`).
    """
    g = plan.grid
    lpb = plan.lines_per_burst
    tau0 = 2.0 * g.starting_range / 299_792_458.0
    tau_all = tau0 + np.arange(g.width) / S.RANGE_SAMPLING_RATE
    fm_coef = _fm_rate_poly(plan, tau_all, height_fn)
    tau_mid = tau0 + g.width / 2.0 / S.RANGE_SAMPLING_RATE
    speeds = [
        float(np.linalg.norm(plan.orbit.velocity(np.array(g.line_to_azimuth_time(s0 + lpb / 2.0)))))
        for s0 in plan.burst_starts
    ]

    def phi(b: int, line: NDArray[np.float64], pixel: NDArray[np.float64]) -> NDArray[np.float64]:
        eta = (np.asarray(line, dtype=np.float64) - lpb / 2.0) * g.azimuth_time_interval
        tau = tau0 + np.asarray(pixel, dtype=np.float64) / S.RANGE_SAMPLING_RATE
        return tops_phase(
            eta,
            tau,
            fm_coef=fm_coef,
            fm_t0=tau0,
            dc_coef=np.zeros(3),
            dc_t0=tau0,
            steering_rate_deg=S.AZIMUTH_STEERING_RATE_DEG,
            speed=speeds[b],
            tau_mid=tau_mid,
        )

    phi.fm_coef = fm_coef  # type: ignore[attr-defined]
    return phi


@dataclass
class _SafeMeta:
    """One date's SAFE metadata, and what turns its baseband lines into measurement lines."""

    content: SafeContent
    line_times: NDArray[np.datetime64]
    footprint: list[tuple[float, float]]
    info: dict[str, Any]
    #: thermal noise power (DN^2) of every pixel
    eta_pix: NDArray[np.float64]


def _safe_content(
    cfg: SimulationConfig,
    plan: DatePlan,
    height_fn: Any,
    ramp: Any = None,
) -> _SafeMeta:
    g = plan.grid
    orbit = plan.orbit
    tops = cfg.mode == "tops"
    lut_pixels = np.unique(np.append(np.arange(0, g.width, 40), g.width - 1))
    t_mid = float(g.line_to_azimuth_time((g.length - 1) / 2))
    lat, lon, hh = _terrain_rdr2geo(
        np.full(lut_pixels.size, t_mid), g.pixel_to_slant_range(lut_pixels), plan, height_fn
    )
    sat_mid, vel_mid, _ = orbit.interpolate(np.array(t_mid))
    inc, _ = _angles(lat, lon, hh, sat_mid)
    sin_i = np.sin(np.radians(inc))
    beta = np.full(lut_pixels.size, S.BETA_NOUGHT)
    sigma = beta / np.sqrt(sin_i)
    gamma = sigma * np.sqrt(np.cos(np.radians(inc)))
    nesz = 10.0 ** (cfg.nesz_db / 10.0)
    noise_lut = nesz * sigma**2  # DN^2, so that noise / A_sigma^2 = NESZ
    eta_pix = np.interp(np.arange(g.width), lut_pixels, noise_lut)
    # TIFF layout
    if tops:
        lpb = plan.lines_per_burst
        tiff_src = np.concatenate([np.arange(s, s + lpb) for s in plan.burst_starts])
    else:
        lpb = 0
        tiff_src = np.arange(g.length)
    n_lines = tiff_src.size
    times_s = g.line_to_azimuth_time(tiff_src)
    line_times = orbit.to_datetime(times_s)
    tau = 2.0 * g.pixel_to_slant_range(np.arange(g.width)) / 299_792_458.0
    tau0 = float(tau[0])
    speed = float(np.linalg.norm(vel_mid))
    fm_coef = ramp.fm_coef if ramp is not None else _fm_rate_poly(plan, tau, height_fn)
    dc_coef = np.zeros(3)
    # geolocation grid: 10 lines x 21 pixels (TOPS: the first line of every burst and the last)
    if tops:
        glines = np.append(np.arange(len(plan.burst_starts)) * lpb, n_lines - 1)
    else:
        glines = np.unique(np.linspace(0, n_lines - 1, 10).round().astype(int))
    gpix = np.unique(np.linspace(0, g.width - 1, 21).round().astype(int))
    GL, GP = np.meshgrid(glines, gpix, indexing="ij")
    gt = g.line_to_azimuth_time(tiff_src[GL.ravel()])
    gr = g.pixel_to_slant_range(GP.ravel())
    glat, glon, gh = _terrain_rdr2geo(gt, gr, plan, height_fn)
    gsat = orbit.position(gt)
    ginc, gel = _angles(glat, glon, gh, gsat)
    geoloc = [
        {
            "line": int(a),
            "pixel": int(b),
            "azimuth_time": orbit.to_datetime(t)[()],
            "slant_range_time": 2 * r / 299_792_458.0,
            "latitude": la,
            "longitude": lo,
            "height": h,
            "incidence": i,
            "elevation": e,
        }
        for a, b, t, r, la, lo, h, i, e in zip(
            GL.ravel(), GP.ravel(), gt, gr, glat, glon, gh, ginc, gel, strict=True
        )
    ]
    corners = [0, len(gpix) - 1, len(geoloc) - 1, len(geoloc) - len(gpix)]
    footprint = [(float(geoloc[k]["latitude"]), float(geoloc[k]["longitude"])) for k in corners]
    # heading: direction of the ground track, degrees clockwise from north
    e_dir = np.array([-math.sin(math.radians(lon[0])), math.cos(math.radians(lon[0])), 0.0])
    la0 = math.radians(lat[0])
    n_dir = np.array(
        [
            -math.sin(la0) * math.cos(math.radians(lon[0])),
            -math.sin(la0) * math.sin(math.radians(lon[0])),
            math.cos(la0),
        ]
    )
    heading = math.degrees(math.atan2(float(vel_mid @ e_dir), float(vel_mid @ n_dir)))
    anx = plan.epoch - np.timedelta64(1800, "s")
    first, last = line_times[0], line_times[-1]
    bursts = []
    if tops:
        inval = max(1, lpb // 60)
        fv = np.zeros(lpb, np.int64)
        lv = np.full(lpb, g.width - 1, np.int64)
        fv[:inval] = -1
        lv[:inval] = -1
        fv[-inval:] = -1
        lv[-inval:] = -1
        for s in plan.burst_starts:
            t_b = g.line_to_azimuth_time(s)
            bursts.append(
                {
                    "azimuth_time": orbit.to_datetime(t_b)[()],
                    "sensing_time": orbit.to_datetime(t_b)[()],
                    "anx": float((orbit.to_datetime(t_b)[()] - anx) / np.timedelta64(1, "ns"))
                    * 1e-9,
                    "first_valid": fv,
                    "last_valid": lv,
                }
            )
    fm_list: list[Any] = [
        (orbit.to_datetime(t)[()], tau0, fm_coef)
        for t in g.line_to_azimuth_time(np.array(plan.burst_starts) + (lpb or g.length) / 2)
    ]
    abs_orbit = 41876 + 175 * plan.index
    drng = np.random.default_rng(np.random.SeedSequence([cfg.seed, 5, plan.index]))
    content = SafeContent(
        mission="S1A",
        mode="IW" if tops else "SM",
        swath="IW2" if tops else "S3",
        pass_direction=cfg.pass_direction.capitalize(),
        absolute_orbit=abs_orbit,
        relative_orbit=(abs_orbit - 73) % 175 + 1,
        data_take_id=int(drng.integers(0x10000, 0xFFFFFF)),
        unique_id=f"{int(drng.integers(0, 0xFFFF)):04X}",
        heading=heading,
        slant_range_time=tau0,
        azimuth_time_interval=g.azimuth_time_interval,
        azimuth_pixel_spacing=float(
            speed * g.azimuth_time_interval * 6371e3 / float(np.linalg.norm(sat_mid))
        ),
        incidence_mid=float(np.interp(g.width / 2, lut_pixels, inc)),
        first_line_time=first,
        last_line_time=last,
        anx_time=anx,
        orbit_times=orbit.times,
        orbit_pos=orbit.positions,
        orbit_vel=orbit.velocities,
        shape=(n_lines, g.width),
        sigma_lut=sigma,
        beta_lut=beta,
        gamma_lut=gamma,
        lut_pixels=lut_pixels,
        noise_lut={"VV": noise_lut, "VH": noise_lut},
        geolocation=geoloc,
        fm_rates=fm_list,
        dc_estimates=[(f[0], tau0, dc_coef) for f in fm_list],
        terrain_height=float(np.mean(gh)),
        steering_rate=S.AZIMUTH_STEERING_RATE_DEG if tops else 0.0,
        lines_per_burst=lpb,
        bursts=bursts,
    )
    info = {
        "incidence_lut": inc.tolist(),
        "lut_pixels": lut_pixels.tolist(),
        "fm_rate_polynomial": fm_coef.tolist(),
        "tau0": tau0,
    }
    return _SafeMeta(content, line_times, footprint, info, eta_pix)


class _SceneSink:
    """Turns :func:`form_images`' final baseband lines into measurement lines and its truth
    accumulators into truth rows (an :class:`~sarbd.simulate.imaging.ImageSink`).

    Measurement lines: TOPS bursts times their ramp ``exp(j phi)``, plus thermal noise
    ``CN(0, eta)`` drawn from a generator of its own per (date, polarisation, TIFF line), so
    the noise does not depend on how the lines are blocked; then CInt16 quantisation.
    """

    def __init__(
        self,
        cfg: SimulationConfig,
        plans: list[DatePlan],
        metas: list[_SafeMeta],
        writers: list[SafeWriter],
        ramps: dict[int, Any] | None,
        truth: _TruthWriter,
    ) -> None:
        self.cfg = cfg
        self.plans = plans
        self.metas = metas
        self.writers = writers
        self.ramps = ramps
        self.truth = truth
        self.clipped: list[dict[str, int]] = [{"VV": 0, "VH": 0} for _ in plans]

    def image_rows(self, date: int, segment: int, first: int, rows: NDArray[np.complex64]) -> None:
        plan, meta = self.plans[date], self.metas[date]
        n, width = rows.shape[1:]
        phase = None
        tiff0 = first
        if self.ramps is not None:
            # baseband bursts times the burst's ramp exp(j phi) (see form_images)
            tiff0 = segment * plan.lines_per_burst + first
            bl = np.arange(first, first + n)[:, None]
            phase = np.exp(1j * self.ramps[date](segment, bl, np.arange(width)[None, :]))
        scale = np.sqrt(meta.eta_pix / 2.0)[None, :, None]
        for k, pol in enumerate(("VV", "VH")):
            img = rows[k].astype(np.complex128)
            if phase is not None:
                img *= phase
            noise = np.stack(
                [
                    np.random.default_rng(
                        np.random.SeedSequence([self.cfg.seed, 4, plan.index, k, tiff0 + i])
                    ).standard_normal((width, 2))
                    for i in range(n)
                ]
            )
            noise *= scale
            img += noise[..., 0] + 1j * noise[..., 1]
            q, c = quantize(img)
            self.clipped[date][pol] += c
            self.writers[date].write_lines(pol, tiff0, q)

    def truth_rows(self, first: int, rows: TruthRows) -> None:
        self.truth.write_rows(first, rows)


def _fm_rate_poly(plan: DatePlan, tau: NDArray[np.float64], height_fn: Any) -> NDArray[np.float64]:
    """Azimuth FM rate ``k_a = -2 v_s v_g / (lambda R)`` fitted by a quadratic in two-way range time.

    (Cumming & Wong 2005, eq. 4.38 with the effective velocity ``V_r^2 = v_s v_g``.)
    """
    g = plan.grid
    idx = np.linspace(0, g.width - 1, 9)
    t_mid = float(g.line_to_azimuth_time((g.length - 1) / 2))
    r = g.pixel_to_slant_range(idx)
    lat, lon, h = _terrain_rdr2geo(np.full(idx.size, t_mid), r, plan, height_fn)
    lat2, lon2, h2 = _terrain_rdr2geo(np.full(idx.size, t_mid + 1.0), r, plan, height_fn)
    vg = np.linalg.norm(llh_to_ecef(lat2, lon2, h2) - llh_to_ecef(lat, lon, h), axis=-1)
    vs = float(np.linalg.norm(plan.orbit.velocity(np.array(t_mid))))
    ka = -2.0 * vs * vg / (S.WAVELENGTH * r)
    tt = 2.0 * r / 299_792_458.0
    return np.asarray(np.polynomial.polynomial.polyfit(tt - tau[0], ka, 2))


# -- truth -------------------------------------------------------------------------------
#: Lines x pixels of one chunk of ``truth.zarr`` (one chunk per date / class).
TRUTH_CHUNKS = (256, 4096)


class _TruthWriter:
    """The truth folder (``class_map*.tif``, ``truth.zarr``, ``scene.json``,
    ``corruption_log.json``), written as the reference lines become final.

    A context manager around :func:`~sarbd.utils.files.atomic_output`: ``truth.zarr`` is laid
    out on entry, :meth:`write_rows` fills a block of reference lines of every array (each
    value a function of that line's accumulators only), :meth:`finish` writes the rest.
    """

    def __init__(
        self,
        folder: Path,
        cfg: SimulationConfig,
        plans: list[DatePlan],
        classes: tuple[NDArray[np.uint8], Any],
        height_fn: Any,
    ) -> None:
        self.folder = folder
        self.cfg = cfg
        self.plans = plans
        self.classes = classes
        self.height_fn = height_fn
        self._atomic: Any = None
        self.tmp: Path | None = None

    def __enter__(self) -> _TruthWriter:
        self._atomic = atomic_output(self.folder, directory=True)
        self.tmp = self._atomic.__enter__()
        try:
            self._start()
        except BaseException as err:
            self._atomic.__exit__(type(err), err, err.__traceback__)
            raise
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self._atomic.__exit__(exc_type, exc, tb)

    def _start(self) -> None:
        import rasterio
        import xarray as xr
        from rasterio.crs import CRS

        from sarbd.simulate.imaging import _geometry

        cfg, plans, tmp = self.cfg, self.plans, self.tmp
        assert tmp is not None
        _, geo2rdr = _geometry()
        ref = plans[0].grid
        L, W = ref.shape
        # class map in map geometry
        cm, transform = self.classes
        with rasterio.open(
            tmp / "class_map.tif",
            "w",
            driver="GTiff",
            width=cm.shape[1],
            height=cm.shape[0],
            count=1,
            dtype="uint8",
            crs=CRS.from_user_input(cfg.crs),
            transform=transform,
            nodata=0,
            compress="deflate",
        ) as ds:
            ds.write(cm, 1)
            ds.update_tags(
                flag_values=" ".join(str(c.code) for c in CLASSES),
                flag_meanings=" ".join(c.name for c in CLASSES),
            )
        self.cmr = np.zeros((L, W), np.uint8)
        self.smr = np.zeros((L, W), np.uint8)
        # true offsets on a coarse grid of the reference, interpolated bilinearly per block
        step = 8
        cl = np.unique(np.append(np.arange(0, L, step), L - 1))
        cp = np.unique(np.append(np.arange(0, W, step), W - 1))
        CL, CP = np.meshgrid(cl, cp, indexing="ij")
        t0 = ref.line_to_azimuth_time(CL.ravel())
        r0 = ref.pixel_to_slant_range(CP.ravel())
        lat, lon, h = _terrain_rdr2geo(t0, r0, plans[0], self.height_fn)
        self.fl = np.interp(np.arange(L), cl, np.arange(cl.size))
        self.fp = np.interp(np.arange(W), cp, np.arange(cp.size))
        self.coarse: list[tuple[NDArray[np.float64], NDArray[np.float64]]] = []
        for p in plans:
            t, r, _ = geo2rdr(lat, lon, h, p.orbit)
            ln = (t + p.timing_error - p.grid.sensing_start) / p.grid.azimuth_time_interval
            px = (r - p.grid.starting_range) / p.grid.range_pixel_spacing
            self.coarse.append(
                ((ln - CL.ravel()).reshape(CL.shape), (px - CP.ravel()).reshape(CP.shape))
            )
        # truth.zarr laid out (metadata only): every block is written into it by write_rows
        import dask.array as dsa

        nd, nc = len(plans), len(CLASSES)
        chunks = (min(L, TRUTH_CHUNKS[0]), min(W, TRUTH_CHUNKS[1]))

        def lazy(*lead: int, dtype: Any = np.float32) -> Any:
            return dsa.zeros((*lead, L, W), dtype=dtype, chunks=(*(1 for _ in lead), *chunks))

        times = np.array([p.epoch for p in plans], dtype="datetime64[ns]")
        names = [c.name for c in CLASSES]
        flags = {
            "flag_values": np.array([c.code for c in CLASSES], np.uint8),
            "flag_meanings": " ".join(names),
        }
        tl, tlp = ("time", "line", "pixel"), ("line", "pixel")
        variables = {
            "class_map": (
                tlp,
                lazy(dtype=np.uint8),
                {
                    "long_name": "true land-cover class (largest ground-area share in the resolution cell)",
                    **flags,
                },
            ),
            "class_fraction": (
                ("class", "line", "pixel"),
                lazy(nc),
                {
                    "long_name": "share of the ground area of each class, weighted by |PSF|^2",
                    "units": "1",
                },
            ),
            "signal_class_map": (
                tlp,
                lazy(dtype=np.uint8),
                {
                    "long_name": "true class dominating the expected signal power (VV + VH) of the pixel",
                    **flags,
                },
            ),
            "class_power_fraction": (
                ("class", "line", "pixel"),
                lazy(nc),
                {
                    "long_name": "share of the expected signal power (VV + VH) of each class; double-bounce "
                    "points count as building",
                    "units": "1",
                },
            ),
            "offset_line": (
                tl,
                lazy(nd),
                {
                    "long_name": "true line of the same terrain point in each date's grid minus reference line",
                    "units": "lines",
                },
            ),
            "offset_pixel": (
                tl,
                lazy(nd),
                {
                    "long_name": "true pixel of the same terrain point in each date's grid minus reference pixel",
                    "units": "pixels",
                },
            ),
            "coherence_vv": (
                tl,
                lazy(nd),
                {
                    "long_name": "true coherence magnitude with the reference date, VV (temporal x SNR)",
                    "units": "1",
                },
            ),
            "coherence_vh": (
                tl,
                lazy(nd),
                {
                    "long_name": "true coherence magnitude with the reference date, VH",
                    "units": "1",
                },
            ),
            "residual_phase": (
                tl,
                lazy(nd),
                {
                    "long_name": "true interferometric phase left after removing the flat-earth and DEM "
                    "topographic phase (reference x conj(secondary))",
                    "units": "rad",
                },
            ),
            "sigma0_vv": (
                tlp,
                lazy(),
                {"long_name": "expected (speckle- and noise-free) sigma0 VV", "units": "1"},
            ),
            "sigma0_vh": (
                tlp,
                lazy(),
                {"long_name": "expected (speckle- and noise-free) sigma0 VH", "units": "1"},
            ),
        }
        ds = xr.Dataset(
            variables,
            coords={
                "time": times,
                "line": np.arange(L) + ref.first_line,
                "pixel": np.arange(W) + ref.first_pixel,
                "class": names,
            },
            attrs={
                "title": "sarbd simulated scene: truth on the reference radar grid",
                "Conventions": "CF-1.10",
                "reference_date": str(times[0]),
                **{f"radar_grid_{k}": v for k, v in _grid_dict(ref).items()},
            },
        )
        ds.to_zarr(tmp / "truth.zarr", mode="w", consolidated=True, zarr_format=2, compute=False)
        import zarr

        group = zarr.open_group(tmp / "truth.zarr", mode="r+", zarr_format=2)
        self.store: dict[str, Any] = {name: group[name] for name in variables}
        # expected calibrated intensity: A_sigma^2 of every pixel of the reference date
        self.a_sigma2: NDArray[np.float64] | None = None

    def set_calibration(self, meta: Any) -> None:
        """The reference date's incidence LUT (for the expected sigma0 and SNR)."""
        W = self.plans[0].grid.width
        inc = np.interp(
            np.arange(W), np.array(meta.info["lut_pixels"]), np.array(meta.info["incidence_lut"])
        )
        self.a_sigma2 = S.BETA_NOUGHT**2 / np.sin(np.radians(inc))

    def write_rows(self, first: int, rows: TruthRows) -> None:
        """Every truth array on reference lines ``first .. first + n - 1``."""
        from scipy.ndimage import map_coordinates

        assert self.a_sigma2 is not None
        plans, z = self.plans, self.store
        n = rows.class_sums.shape[2]
        sl = slice(first, first + n)
        cw = rows.class_weight
        tot = cw.sum(axis=0)
        z["class_fraction"][:, sl, :] = np.where(tot > 0, cw / np.where(tot > 0, tot, 1), 0).astype(
            np.float32
        )
        self.cmr[sl] = np.where(tot > 0, np.argmax(cw, axis=0) + 1, 0).astype(np.uint8)
        z["class_map"][sl, :] = self.cmr[sl]
        # the class whose scatterers give most of the pixel's signal: where a roof lays over
        # the ground in front of it, or a bright target's response reaches a dark neighbour,
        # the pixel shows the bright object whatever the ground-area shares
        cp = rows.class_power
        ptot = cp.sum(axis=0)
        z["class_power_fraction"][:, sl, :] = np.where(
            ptot > 0, cp / np.where(ptot > 0, ptot, 1), 0
        ).astype(np.float32)
        self.smr[sl] = np.where(ptot > 0, np.argmax(cp, axis=0) + 1, 0).astype(np.uint8)
        z["signal_class_map"][sl, :] = self.smr[sl]
        FL, FP = np.meshgrid(self.fl[sl], self.fp, indexing="ij")
        nd = len(plans)
        W = self.fp.size
        off_l = np.zeros((nd, n, W), np.float32)
        off_p = np.zeros((nd, n, W), np.float32)
        for p in plans:
            dl, dp = self.coarse[p.index]
            off_l[p.index] = map_coordinates(dl, [FL, FP], order=1)
            off_p[p.index] = map_coordinates(dp, [FL, FP], order=1)
        z["offset_line"][:, sl, :] = off_l
        z["offset_pixel"][:, sl, :] = off_p
        del off_l, off_p, FL, FP
        # expected (noise-free) calibrated intensity, SNR and coherence
        nesz = 10.0 ** (self.cfg.nesz_db / 10.0)
        power = rows.power
        sig = power / self.a_sigma2[None, None, :]
        snr = sig / nesz
        # coherence of signal + independent noise: gamma_s * sqrt(SNR1/(1+SNR1) * SNR2/(1+SNR2))
        snr_fac = snr / (1.0 + snr)
        coh = np.ones((nd, 2, n, W), np.float32)
        phase = np.zeros((nd, n, W), np.float32)
        for k in range(1, nd):
            c = rows.cross_power(k, plans[k].days)
            with np.errstate(invalid="ignore", divide="ignore"):
                coh[k] = np.where(power > 0, np.abs(c) / np.where(power > 0, power, 1), 0) * snr_fac
            phase[k] = np.angle(c[0])
        z["coherence_vv"][:, sl, :] = coh[:, 0]
        z["coherence_vh"][:, sl, :] = coh[:, 1]
        z["residual_phase"][:, sl, :] = phase
        z["sigma0_vv"][sl, :] = sig[0].astype(np.float32)
        z["sigma0_vh"][sl, :] = sig[1].astype(np.float32)

    def finish(
        self,
        land: Landscape,
        summary: Any,
        corruption_log: dict[str, Any],
        metas: list[Any],
        clipped: list[dict[str, int]],
        safes: list[Path],
    ) -> None:
        """The radar class maps, ``scene.json`` and ``corruption_log.json`` (after every row)."""
        import warnings

        import rasterio

        from sarbd.geometry.baseline import baseline_components
        from sarbd.simulate.imaging import _geometry

        _, geo2rdr = _geometry()
        cfg, plans, tmp = self.cfg, self.plans, self.tmp
        assert tmp is not None
        L, W = plans[0].grid.shape
        with warnings.catch_warnings():
            # radar geometry has no geotransform, on purpose
            warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
            for name, raster in (
                ("class_map_radar.tif", self.cmr),
                ("signal_class_map_radar.tif", self.smr),
            ):
                with rasterio.open(
                    tmp / name,
                    "w",
                    driver="GTiff",
                    width=W,
                    height=L,
                    count=1,
                    dtype="uint8",
                    nodata=0,
                    compress="deflate",
                ) as ds:
                    ds.write(raster, 1)
        h_c = float(self.height_fn(np.array([cfg.centre_lat]), np.array([cfg.centre_lon]))[0])
        p_c = llh_to_ecef(cfg.centre_lat, cfg.centre_lon, h_c)
        t_ref_c, _, _ = geo2rdr(cfg.centre_lat, cfg.centre_lon, h_c, plans[0].orbit)
        s0, v0, _ = plans[0].orbit.interpolate(t_ref_c)
        records = []
        for p in plans:
            tc, _, _ = geo2rdr(cfg.centre_lat, cfg.centre_lon, h_c, p.orbit)
            sn = p.orbit.position(tc)
            bperp, bpar = (float(b) for b in baseline_components(s0, v0, sn, p_c))
            info = metas[p.index].info
            records.append(
                {
                    "index": p.index,
                    "safe": safes[p.index].name,
                    "epoch": str(p.epoch),
                    "days": p.days,
                    "cross_track_offset_m": p.cross_track,
                    "radial_offset_m": p.radial,
                    "timing_error_s": p.timing_error,
                    "perpendicular_baseline_m": bperp,
                    "parallel_baseline_m": bpar,
                    "grid": _grid_dict(p.grid),
                    "burst_starts": list(p.burst_starts),
                    "lines_per_burst": p.lines_per_burst,
                    "clipped_samples": clipped[p.index],
                    "fm_rate_polynomial": info["fm_rate_polynomial"],
                    "fm_rate_t0": info["tau0"],
                }
            )
        config = _jsonable(asdict(cfg))
        if not config.get("targets"):
            config.pop("targets", None)  # scenes without targets keep their bytes
        if not config.get("changes"):
            config.pop("changes", None)
        scene = {
            "config": config,
            "dates": records,
            "classes": [asdict(c) for c in CLASSES],
            "sensor": {k: getattr(S, k) for k in S.__all__},
            "n_scatterers": summary.n_scatterers,
            "n_point_scatterers": summary.n_points,
            "landscape": _jsonable(land.meta),
        }
        (tmp / "scene.json").write_text(json.dumps(scene, indent=1, default=str))
        (tmp / "corruption_log.json").write_text(json.dumps(corruption_log, indent=1))


def _grid_dict(g: Any) -> dict[str, Any]:
    return {
        "reference_epoch": str(g.reference_epoch),
        "sensing_start": g.sensing_start,
        "azimuth_time_interval": g.azimuth_time_interval,
        "starting_range": g.starting_range,
        "range_pixel_spacing": g.range_pixel_spacing,
        "length": g.length,
        "width": g.width,
        "wavelength": g.wavelength,
        "look_side": g.look_side,
    }


def _jsonable(d: Any) -> Any:
    return json.loads(
        json.dumps(d, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o))
    )
