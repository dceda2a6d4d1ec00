"""Picklable pixel sources over measurement rasters (GeoTIFF via rasterio, HDF5 via h5py).

Sources hold paths (``/vsizip/...`` inside zip files), never open handles, so
Dask can ship them to workers; each read opens the file, reads one window, and
closes it. CInt16 pixels come back as complex64.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sarbd.errors import InputError, ProductError

__all__ = ["DeburstSource", "Hdf5Source", "TiffSource", "read_tiff_window"]


def read_tiff_window(
    path: str, rows: tuple[int, int], cols: tuple[int, int]
) -> NDArray[np.complex64]:
    """Read rows ``r0..r1-1`` and columns ``c0..c1-1`` of complex pixels as complex64.

    One complex band (CInt16/CFloat32: Sentinel-1, converted products), or two signed
    real bands I then Q (Radarsat-2 SLC GeoTIFFs, RN-RP-51-2713 sec. 5.1). Real pixels
    without a Q band are refused: they are not SLC data.
    """
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning, RasterioError
    from rasterio.windows import Window

    r0, r1 = rows
    c0, c1 = cols
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with rasterio.open(path) as ds:
                if r0 < 0 or c0 < 0 or r1 > ds.height or c1 > ds.width:
                    raise InputError(
                        f"window lines {r0}..{r1 - 1}, pixels {c0}..{c1 - 1} lies outside the "
                        f"{ds.height} x {ds.width} measurement",
                        path=path,
                    )
                win = Window(c0, r0, c1 - c0, r1 - r0)
                if "complex" in str(ds.dtypes[0]):  # rasterio names CInt16 "complex_int16"
                    data = ds.read(1, window=win)
                elif ds.count >= 2:
                    iq = ds.read((1, 2), window=win).astype(np.float32)
                    data = iq[0] + 1j * iq[1]
                else:
                    raise ProductError(
                        f"the raster has {ds.count} real band: not complex SLC pixels", path=path
                    )
    except RasterioError as exc:  # a TIFF decoding error names the file (or /vsizip/ member)
        raise ProductError(
            f"cannot decode the measurement raster ({exc})",
            path=path,
            hint="the file is corrupt or truncated; download the product again",
        ) from None
    return np.asarray(data, dtype=np.complex64)


@dataclass(frozen=True)
class TiffSource:
    """Pixels straight from measurement TIFFs (one per polarisation).

    Parameters
    ----------
    paths
        ``{polarisation: raster path}``.
    offset
        ``(line, pixel)`` of the raster's first pixel in the root grid (a crop's offset).
    """

    paths: dict[str, str]
    offset: tuple[int, int] = (0, 0)

    def read(self, polarization: str, lines: slice, pixels: slice) -> NDArray[np.complex64]:
        o0, o1 = self.offset
        return read_tiff_window(
            self.paths[polarization],
            (lines.start - o0, lines.stop - o0),
            (pixels.start - o1, pixels.stop - o1),
        )


@dataclass(frozen=True)
class DeburstSource:
    """Debursted (merged) TOPS lines assembled from the burst-stacked measurement TIFF.

    Parameters
    ----------
    paths
        ``{polarisation: raster path}`` of the swath's measurement TIFFs.
    tiff_line
        For each debursted line, the TIFF line it comes from (``-1``: no data, zeros).
    first_valid, last_valid
        For each debursted line, the first/last valid sample (``-1``: none); samples
        outside are set to 0.
    """

    paths: dict[str, str]
    tiff_line: NDArray[np.int64]
    first_valid: NDArray[np.int32]
    last_valid: NDArray[np.int32]

    def read(self, polarization: str, lines: slice, pixels: slice) -> NDArray[np.complex64]:
        p0, p1 = pixels.start, pixels.stop
        out = np.zeros((lines.stop - lines.start, p1 - p0), dtype=np.complex64)
        src = self.tiff_line[lines.start : lines.stop]
        # runs of consecutive TIFF lines -> one window read each
        idx = np.flatnonzero(src >= 0)
        if idx.size == 0:
            return out
        breaks = np.flatnonzero((np.diff(src[idx]) != 1) | (np.diff(idx) != 1)) + 1
        for run in np.split(idx, breaks):
            t0 = int(src[run[0]])
            out[run[0] : run[-1] + 1] = read_tiff_window(
                self.paths[polarization], (t0, t0 + run.size), (p0, p1)
            )
        cols = np.arange(p0, p1)
        fv = self.first_valid[lines.start : lines.stop, None]
        lv = self.last_valid[lines.start : lines.stop, None]
        invalid = (fv < 0) | (cols[None, :] < fv) | (cols[None, :] > lv)
        out[invalid] = 0
        return out


@dataclass(frozen=True)
class Hdf5Source:
    """Pixels from HDF5 datasets (NISAR RSLC); re-opens the file by path on every read.

    Parameters
    ----------
    path
        The HDF5 file.
    datasets
        ``{polarisation: dataset path inside the file}``.
    """

    path: str
    datasets: dict[str, str]

    def read(self, polarization: str, lines: slice, pixels: slice) -> NDArray[np.complex64]:
        import h5py

        with h5py.File(self.path, "r") as f:
            data = f[self.datasets[polarization]][
                lines.start : lines.stop, pixels.start : pixels.stop
            ]
        if data.dtype.names:  # complex32 stored as a compound (r, i) of float16
            data = data[data.dtype.names[0]] + 1j * data[data.dtype.names[1]]
        return np.asarray(data, dtype=np.complex64)
