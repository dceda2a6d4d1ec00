"""Write a simulated coregistered stack (``conftest.SimStack``) in other processors' formats.

Each writer follows the format's own specification, field by field, as cited in the reader's
module docstring (``sarbd.stacks.<format>``); these are test fixtures, not exporters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from sarbd.core.radar_grid import SPEED_OF_LIGHT

_MON = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def dmy_time(t: np.datetime64, upper: bool = False) -> str:
    """``10-Jan-2020 05:43:11.986023`` (Doris, SNAP UTC attributes)."""
    s = str(np.datetime64(t, "us"))
    d, clock = s.split("T")
    y, m, day = d.split("-")
    mon = _MON[int(m) - 1].upper() if upper else _MON[int(m) - 1]
    return f"{day}-{mon}-{y} {clock}"


def iso_space(t: np.datetime64) -> str:
    return str(np.datetime64(t, "us")).replace("T", " ")


def _interleave(a: np.ndarray, dtype: str) -> bytes:
    out = np.empty((*a.shape, 2), dtype=dtype)
    out[..., 0] = a.real
    out[..., 1] = a.imag
    return out.tobytes()


# -- Doris ------------------------------------------------------------------------------------
def _doris_res(
    kind: str,
    t0: np.datetime64,
    prf: float,
    range_time: float,
    rsr: float,
    wl: float,
    orbit: Any,
    resample: tuple[int, int, int, int] | None,
    fmt: str,
    raw: str,
) -> str:
    day = np.datetime64(t0, "D").astype("datetime64[ns]")
    sod = (orbit.times - day) / np.timedelta64(1, "s")
    rows = "\n".join(
        f" {s:.6f} {p[0]:.16E} {p[1]:.16E} {p[2]:.16E}"
        for s, p in zip(sod, orbit.positions, strict=True)
    )
    text = f"""=====================================================
 {kind.upper()} RESULTFILE:         {kind}.res

InSAR Processor:        Doris (Delft o-o Radar Interferometric Software)
Version:                version  4.13.1 (02-11-2021)

Start_process_control
readfiles:\t\t1
precise_orbits:\t\t1
resample:\t\t{1 if resample else 0}
End_process_control

*******************************************************************
*_Start_readfiles:
*******************************************************************
Volume file: \t\t\t\t\tsimulated.xml
Radar_wavelength (m):                      \t{float(wl)!r}
First_pixel_azimuth_time (UTC):\t\t\t{dmy_time(t0)}
Pulse_Repetition_Frequency (computed, Hz): \t{float(prf)!r}
Range_time_to_first_pixel (2way) (ms):     \t{float(range_time * 1e3)!r}
Range_sampling_rate (computed, MHz):       \t{float(rsr / 1e6)!r}
*******************************************************************
* End_readfiles:_NORMAL
*******************************************************************

*******************************************************************
*_Start_precise_orbits:
*******************************************************************
 t(s)\t\tX(m)\t\tY(m)\t\tZ(m)
NUMBER_OF_DATAPOINTS: \t\t\t{len(sod)}
{rows}

*******************************************************************
* End_precise_orbits:_NORMAL
*******************************************************************
"""
    if resample:
        l0, l1, p0, p1 = resample
        text += f"""
*******************************************************************
*_Start_resample:
*******************************************************************
Shifted azimuth spectrum:             \t\t1
Data_output_file:                     \t\t{raw}
Data_output_format:                   \t\t{fmt}
Interpolation kernel:                 \t\t16 point truncated sinc
First_line (w.r.t. original_master):  \t\t{l0}
Last_line (w.r.t. original_master):   \t\t{l1}
First_pixel (w.r.t. original_master): \t\t{p0}
Last_pixel (w.r.t. original_master):  \t\t{p1}
*******************************************************************
* End_resample:_NORMAL
*******************************************************************
"""
    return text


def write_doris(
    sim: Any, folder: Path, *, window_origin: tuple[int, int] = (10, 20), fmt: str = "complex_real4"
) -> Path:
    """``folder/stack_<pol>/YYYYMMDD/{master.res, slave.res, slave_rsmp.raw}``; the stack window starts
    ``window_origin`` (lines, pixels) into each date's original image."""
    g = sim.grid
    prf, rsr = 1 / g.azimuth_time_interval, g.range_sampling_rate
    dl, dp = window_origin
    res_window = (dl + 1, dl + g.length, dp + 1, dp + g.width)

    def original(k: int) -> tuple[np.datetime64, float]:
        t0 = sim.starts[k] - np.timedelta64(round(dl / prf * 1e9), "ns")
        return t0, 2 * g.starting_range / SPEED_OF_LIGHT - dp / rsr

    m_t0, m_rt = original(0)
    master = _doris_res("master", m_t0, prf, m_rt, rsr, g.wavelength, sim.orbits[0], None, fmt, "")
    for pol, arrays in sim.slc.items():
        for k, a in enumerate(arrays):
            d = folder / f"stack_{pol.lower()}" / sim.days[k]
            d.mkdir(parents=True)
            (d / "master.res").write_text(master)
            t0, rt = original(k)
            (d / "slave.res").write_text(
                _doris_res(
                    "slave",
                    t0,
                    prf,
                    rt,
                    rsr,
                    g.wavelength,
                    sim.orbits[k],
                    res_window,
                    fmt,
                    "slave_rsmp.raw",
                )
            )
            (d / "slave_rsmp.raw").write_bytes(
                _interleave(a, "<f4" if fmt == "complex_real4" else "<i2")
            )
    return folder


# -- SNAP BEAM-DIMAP -----------------------------------------------------------------------------
def _dmy(t: np.datetime64) -> str:
    y, m, d = str(np.datetime64(t, "D")).split("-")
    return f"{d}{_MON[int(m) - 1]}{y}"


def _abstracted(sim: Any, k: int, name: str) -> str:
    g = sim.grid
    o = sim.orbits[k]
    vecs = "".join(
        f'<MDElem name="orbit_vector{i + 1}"><MDATTR name="time" type="utc" unit="utc">{dmy_time(t, upper=True)}</MDATTR>'
        + "".join(
            f'<MDATTR name="{ax}_pos" type="float64" unit="m">{float(p[j])!r}</MDATTR>'
            for j, ax in enumerate("xyz")
        )
        + "".join(
            f'<MDATTR name="{ax}_vel" type="float64" unit="m/s">{float(v[j])!r}</MDATTR>'
            for j, ax in enumerate("xyz")
        )
        + "</MDElem>\n"
        for i, (t, p, v) in enumerate(zip(o.times, o.positions, o.velocities, strict=True))
    )
    return f"""<MDElem name="{name}">
<MDATTR name="PRODUCT" type="ascii">S1A_SIM_{sim.days[k]}</MDATTR>
<MDATTR name="MISSION" type="ascii">SENTINEL-1A</MDATTR>
<MDATTR name="first_line_time" type="utc" unit="utc">{dmy_time(sim.starts[k], upper=True)}</MDATTR>
<MDATTR name="line_time_interval" type="float64" unit="s">{float(g.azimuth_time_interval)!r}</MDATTR>
<MDATTR name="slant_range_to_first_pixel" type="float64" unit="m">{float(g.starting_range)!r}</MDATTR>
<MDATTR name="range_spacing" type="float64" unit="m">{float(g.range_pixel_spacing)!r}</MDATTR>
<MDATTR name="radar_frequency" type="float64" unit="MHz">{float(SPEED_OF_LIGHT / g.wavelength / 1e6)!r}</MDATTR>
<MDATTR name="antenna_pointing" type="ascii">right</MDATTR>
<MDATTR name="srgr_flag" type="uint8">0</MDATTR>
<MDATTR name="num_output_lines" type="uint32">{g.length}</MDATTR>
<MDATTR name="num_samples_per_line" type="uint32">{g.width}</MDATTR>
<MDElem name="Orbit_State_Vectors">
{vecs}</MDElem>
</MDElem>
"""


def write_snap(sim: Any, folder: Path, *, roles: tuple[str, str] = ("mst", "slv")) -> Path:
    """``folder/stack.dim`` + ``stack.data/`` with big-endian float32 ENVI i/q bands per date and pol."""
    g = sim.grid
    dim = folder / "stack.dim"
    data = folder / "stack.data"
    data.mkdir(parents=True)
    bands = []
    for pol, arrays in sim.slc.items():
        for k, a in enumerate(arrays):
            role = roles[0] if k == 0 else f"{roles[1]}{k}"
            for part, values in (("i", a.real), ("q", a.imag)):
                name = f"{part}_{pol}_{role}_{_dmy(sim.starts[k])}"
                (data / f"{name}.img").write_bytes(np.asarray(values, ">f4").tobytes())
                (data / f"{name}.hdr").write_text(
                    f"ENVI\ndescription = {{Sentinel-1 IW Level-1 SLC Product - Unit: real}}\nsamples = {g.width}\n"
                    f"lines = {g.length}\nbands = 1\nheader offset = 0\nfile type = ENVI Standard\n"
                    f"data type = 4\ninterleave = bsq\nbyte order = 1\nband names = {{ {name} }}\n"
                )
                bands.append(name)
    info = "".join(
        f"<Spectral_Band_Info><BAND_INDEX>{i}</BAND_INDEX><BAND_NAME>{n}</BAND_NAME>"
        f"<DATA_TYPE>float32</DATA_TYPE><BAND_RASTER_WIDTH>{g.width}</BAND_RASTER_WIDTH>"
        f"<BAND_RASTER_HEIGHT>{g.length}</BAND_RASTER_HEIGHT></Spectral_Band_Info>\n"
        for i, n in enumerate(bands)
    )
    files = "".join(
        f'<Data_File><DATA_FILE_PATH href="stack.data/{n}.hdr" /><BAND_INDEX>{i}</BAND_INDEX></Data_File>\n'
        for i, n in enumerate(bands)
    )
    slaves = "".join(
        _abstracted(sim, k, f"S1A_SIM_{sim.days[k]}") for k in range(1, len(sim.starts))
    )
    dim.write_text(f"""<?xml version="1.0" encoding="ISO-8859-1"?>
<Dimap_Document name="stack.dim">
<Metadata_Id><METADATA_FORMAT version="2.12.1">DIMAP</METADATA_FORMAT></Metadata_Id>
<Raster_Dimensions><NCOLS>{g.width}</NCOLS><NROWS>{g.length}</NROWS><NBANDS>{len(bands)}</NBANDS></Raster_Dimensions>
<Data_Access><DATA_FILE_FORMAT>ENVI</DATA_FILE_FORMAT>
{files}</Data_Access>
<Image_Interpretation>
{info}</Image_Interpretation>
<Dataset_Sources>
<MDElem name="metadata">
{_abstracted(sim, 0, "Abstracted_Metadata")}
<MDElem name="Slave_Metadata">
{slaves}</MDElem>
</MDElem>
</Dataset_Sources>
</Dimap_Document>
""")
    return dim


# -- GMTSAR -------------------------------------------------------------------------------------
def _clock(t: np.datetime64) -> tuple[str, str]:
    d = np.datetime64(t, "D")
    year = int(str(d)[:4])
    doy = int(
        (d - np.datetime64(f"{year}-01-01", "D")) / np.timedelta64(1, "D")
    )  # GMTSAR: 0 = 1 January
    frac = (np.datetime64(t, "ns") - d.astype("datetime64[ns]")) / np.timedelta64(1, "ns") / 86400e9
    return f"{year * 1000 + doy + frac:.12f}", f"{doy + frac:.15f}"


def write_gmtsar(sim: Any, folder: Path) -> Path:
    """``folder/S1_YYYYMMDD_ALL_F1.{PRM,SLC,LED}`` (int16 I/Q) and ``align.in`` naming the reference first."""
    g = sim.grid
    folder.mkdir(parents=True)
    stems = []
    for k, a in enumerate(sim.slc["VV"]):
        stem = f"S1_{sim.days[k]}_ALL_F1"
        stems.append(stem)
        sc, clk = _clock(sim.starts[k])
        (folder / f"{stem}.PRM").write_text(
            f"input_file\t\t= {stem}.raw\nSLC_file\t\t= {stem}.SLC\nled_file\t\t= {stem}.LED\n"
            f"SC_identity\t\t= 10\nrng_samp_rate\t\t= {float(g.range_sampling_rate)!r}\nPRF\t\t\t= {float(1 / g.azimuth_time_interval)!r}\n"
            f"radar_wavelength\t= {float(g.wavelength)!r}\nnear_range\t\t= {float(g.starting_range)!r}\nnum_rng_bins\t\t= {g.width}\n"
            f"bytes_per_line\t\t= {4 * g.width}\nnum_lines\t\t= {g.length}\nnum_valid_az\t\t= {g.length}\n"
            f"SC_clock_start\t\t= {sc}\nclock_start\t\t= {clk}\nlookdir\t\t\t= R\ndtype\t\t\t= a\n"
        )
        (folder / f"{stem}.SLC").write_bytes(_interleave(a, "<i2"))
        o = sim.orbits[k]
        t0 = o.times[0]
        year = int(str(np.datetime64(t0, "D"))[:4])
        lines = []
        for t, p, v in zip(o.times, o.positions, o.velocities, strict=True):
            d = np.datetime64(t, "D")
            doy = int((d - np.datetime64(f"{year}-01-01", "D")) / np.timedelta64(1, "D"))
            sod = (t - d.astype("datetime64[ns]")) / np.timedelta64(1, "s")
            lines.append(
                f"{year} {doy} {sod:.6f} {float(p[0])!r} {float(p[1])!r} {float(p[2])!r} {float(v[0])!r} {float(v[1])!r} {float(v[2])!r}"
            )
        sod0 = float(lines[0].split()[2])
        doy0 = int(lines[0].split()[1])
        (folder / f"{stem}.LED").write_text(
            f"{len(lines)} {year} {doy0} {sod0:.6f} 10.000000\n" + "\n".join(lines) + "\n"
        )
    (folder / "align.in").write_text(
        "\n".join(f"{stems[0]}:{s}:{stems[0]}" for s in stems[1:]) + "\n"
    )
    return folder


# -- ISCE2 topsStack -------------------------------------------------------------------------------
def _prop(name: str, value: Any) -> str:
    return f'<property name="{name}"><value>{value}</value></property>'


def _isce_product(sim: Any, k: int) -> str:
    g = sim.grid
    o = sim.orbits[k]
    svs = "".join(
        f'<component name="state_vector{i + 1}">{_prop("time", iso_space(t))}'
        f"{_prop('position', [float(x) for x in p])}{_prop('velocity', [float(x) for x in v])}</component>"
        for i, (t, p, v) in enumerate(zip(o.times, o.positions, o.velocities, strict=True))
    )
    bursts = ""
    for b in range(2):  # burst 2 starts 20 lines later: the merged grid begins at burst 1
        start = sim.starts[k] + np.timedelta64(round(20 * b * g.azimuth_time_interval * 1e9), "ns")
        # burst 2 spells a name as ISCE's public names may ("sensing start"): ISCE matches them
        # without case, spaces or underscores, and so must the reader
        bursts += (
            f'<component name="burst{b + 1}">{_prop("sensingstart" if b == 0 else "Sensing Start", iso_space(start))}'
            f"{_prop('azimuthtimeinterval', repr(float(g.azimuth_time_interval)))}"
            f"{_prop('startingrange', repr(float(g.starting_range)))}{_prop('rangepixelsize', repr(float(g.range_pixel_spacing)))}"
            f"{_prop('radarwavelength', repr(float(g.wavelength)))}{_prop('numberoflines', 28)}"
            f'<component name="orbit"><component name="state_vectors">{svs}</component></component></component>'
        )
    return (
        f'<productmanager_name>\n<component name="instance">{_prop("numberofbursts", 2)}'
        f'<component name="bursts">{bursts}</component></component>\n</productmanager_name>\n'
    )


def write_isce2(sim: Any, folder: Path) -> Path:
    """``reference/IW1.xml``, ``secondarys/DATE/IW1.xml``, ``merged/SLC/DATE/DATE.slc.full`` (+ .vrt for the
    reference, ISCE .xml image header for the secondaries)."""
    g = sim.grid
    (folder / "reference").mkdir(parents=True)
    (folder / "reference" / "IW1.xml").write_text(_isce_product(sim, 0))
    for k, a in enumerate(sim.slc["VV"]):
        day = sim.days[k]
        d = folder / "merged" / "SLC" / day
        d.mkdir(parents=True)
        raster = d / f"{day}.slc.full"
        raster.write_bytes(a.astype("<c8").tobytes())
        if k == 0:
            (d / f"{day}.slc.full.vrt").write_text(
                f'<VRTDataset rasterXSize="{g.width}" rasterYSize="{g.length}">\n'
                f'  <VRTRasterBand dataType="CFloat32" band="1" subClass="VRTRawRasterBand">\n'
                f'    <SourceFilename relativeToVRT="1">{raster.name}</SourceFilename>\n'
                f"    <ByteOrder>LSB</ByteOrder>\n    <ImageOffset>0</ImageOffset>\n"
                f"    <PixelOffset>8</PixelOffset>\n    <LineOffset>{8 * g.width}</LineOffset>\n"
                f"  </VRTRasterBand>\n</VRTDataset>\n"
            )
        else:
            (d / f"{day}.slc.full.xml").write_text(
                f"<imageFile>{_prop('width', g.width)}{_prop('length', g.length)}{_prop('data_type', 'CFLOAT')}"
                f"{_prop('byte_order', 'l')}{_prop('scheme', 'BIP')}{_prop('number_bands', 1)}</imageFile>\n"
            )
            s = folder / "secondarys" / day
            s.mkdir(parents=True)
            (s / "IW1.xml").write_text(_isce_product(sim, k))
    return folder
