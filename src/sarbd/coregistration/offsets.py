"""Offset fields between a reference grid and a secondary image, and their interpolation.

An offset field gives, for every reference pixel ``(i, j)`` (indices in the reference
scene), the fractional position of the same ground point in the secondary scene's own
indices: ``line_s = i + line_offset(i, j)``, ``pixel_s = j + pixel_offset(i, j)``.

Geometric offsets are smooth (they vary by a fraction of a pixel over hundreds of
pixels, plus the DEM's topographic parallax in range), so they are computed exactly on
a coarse grid and interpolated with bicubic splines in between
(:class:`OffsetModel`); :func:`coarse_grid_error` measures what the interpolation costs
against the exact values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray
from scipy.interpolate import BSpline, RectBivariateSpline

from sarbd.errors import InputError, NoOverlapError

__all__ = ["OffsetModel", "coarse_axis", "coarse_grid_error"]


@numba.njit(cache=True, nogil=True, parallel=True)
def _combine_levels(
    values: NDArray[np.float64],
    heights: NDArray[np.float64],
    h: NDArray[np.float64],
    out: NDArray[np.float64],
) -> None:
    """``out[f] = sum_k L_k(h) values[f, k]`` with the Lagrange basis ``L_k`` of the height levels.

    ``values``: ``(fields, K, lines, pixels)``; the weights are computed once per pixel
    and applied to every field.
    """
    n_f, n_k = values.shape[0], values.shape[1]
    inv = np.ones(n_k)
    for k in range(n_k):
        for m in range(n_k):
            if m != k:
                inv[k] /= heights[k] - heights[m]
    for i in numba.prange(out.shape[1]):
        w = np.empty(n_k)
        for j in range(out.shape[2]):
            hij = h[i, j]
            for k in range(n_k):
                wk = inv[k]
                for m in range(n_k):
                    if m != k:
                        wk *= hij - heights[m]
                w[k] = wk
            for f in range(n_f):
                acc = 0.0
                for k in range(n_k):
                    acc += w[k] * values[f, k, i, j]
                out[f, i, j] = acc


def coarse_axis(n: int, step: int) -> NDArray[np.float64]:
    """Coarse sample positions ``0, step, 2 step, ..., n - 1`` (the last index always included)."""
    if step < 1:
        raise InputError(f"coarse grid step must be >= 1, got {step}")
    axis = np.arange(0, n, step, dtype=np.float64)
    if axis[-1] != n - 1:
        axis = np.append(axis, float(n - 1))
    return axis


def _spline(
    lines: NDArray[np.float64], pixels: NDArray[np.float64], values: NDArray[np.float64]
) -> RectBivariateSpline:
    kx = min(3, lines.size - 1)
    ky = min(3, pixels.size - 1)
    return RectBivariateSpline(lines, pixels, values, kx=kx, ky=ky)


def _design(x: NDArray[np.float64], t: NDArray[np.float64], k: int) -> Any:
    """Sparse B-spline design matrix ``(len(x), n_basis)``; outside the knots the end
    polynomials are extended (as FITPACK's evaluation does)."""
    return BSpline.design_matrix(np.asarray(x, dtype=np.float64), t, k, extrapolate=True)


def _grid_eval(spline: RectBivariateSpline, lines: Any, pixels: Any) -> Any:
    """Tensor-product evaluation ``Bx C By^T`` with sparse design matrices.

    The same values as ``spline(lines, pixels, grid=True)`` (to rounding), an order of
    magnitude faster on large grids because the work is two sparse-dense products.
    """
    tx, ty = spline.tck[0], spline.tck[1]
    kx, ky = spline.degrees
    c = spline.tck[2].reshape(tx.size - kx - 1, ty.size - ky - 1)
    bx = _design(lines, tx, kx)
    by = _design(pixels, ty, ky)
    left = bx @ c  # (n_lines, n_basis_y), dense
    return np.asarray((by @ left.T).T)


@dataclass
class OffsetModel:
    """Offsets sampled on a coarse grid (and at a few heights), interpolated in between.

    Geometric offsets depend smoothly on line and pixel, and on the height of the
    ground point (range parallax). The model stores them at ``K`` height levels on a
    coarse ``lines x pixels`` grid; evaluation is bicubic in (line, pixel) and Lagrange
    polynomial (degree ``K - 1``) in height, so any full-resolution height raster (the
    DEM on the reference grid) gives full-resolution offsets and range differences
    without running the geometry at every pixel. With ``K = 1`` the offsets do not
    depend on height.

    Parameters
    ----------
    lines, pixels
        Increasing coarse-grid positions, in reference-scene indices (0-based).
    line_offset, pixel_offset
        ``(K, len(lines), len(pixels))`` (or 2-D for ``K = 1``) offsets, secondary minus
        reference, pixels. NaN where the ground point does not project into the
        secondary (filled by nearest valid values for the splines).
    heights
        ``(K,)`` ellipsoidal heights of the levels, m (``[0.0]`` for ``K = 1``).
    """

    lines: NDArray[np.float64]
    pixels: NDArray[np.float64]
    line_offset: NDArray[np.float64]
    pixel_offset: NDArray[np.float64]
    heights: NDArray[np.float64] = field(default_factory=lambda: np.zeros(1))
    _splines: list[tuple[RectBivariateSpline, RectBivariateSpline]] | None = field(
        default=None, repr=False
    )

    def __post_init__(self) -> None:
        self.lines = np.asarray(self.lines, dtype=np.float64)
        self.pixels = np.asarray(self.pixels, dtype=np.float64)
        self.heights = np.atleast_1d(np.asarray(self.heights, dtype=np.float64))
        self.line_offset = np.asarray(self.line_offset, dtype=np.float64)
        self.pixel_offset = np.asarray(self.pixel_offset, dtype=np.float64)
        if self.line_offset.ndim == 2:
            self.line_offset = self.line_offset[None]
            self.pixel_offset = self.pixel_offset[None]
        shape = (self.heights.size, self.lines.size, self.pixels.size)
        if self.line_offset.shape != shape or self.pixel_offset.shape != shape:
            raise InputError(f"offset arrays must have shape {shape}, got {self.line_offset.shape}")
        if self.lines.size < 2 or self.pixels.size < 2:
            raise InputError("an offset model needs at least 2 x 2 coarse samples")

    @classmethod
    def constant(
        cls, line_offset: float, pixel_offset: float, shape: tuple[int, int]
    ) -> OffsetModel:
        """A uniform shift over a grid of ``shape``."""
        lines = np.array([0.0, max(shape[0] - 1, 1)])
        pixels = np.array([0.0, max(shape[1] - 1, 1)])
        return cls(
            lines, pixels, np.full((2, 2), float(line_offset)), np.full((2, 2), float(pixel_offset))
        )

    @classmethod
    def from_function(
        cls,
        func: Callable[
            [NDArray[np.float64], NDArray[np.float64]],
            tuple[NDArray[np.float64], NDArray[np.float64]],
        ],
        shape: tuple[int, int],
        step: tuple[int, int] = (64, 64),
    ) -> OffsetModel:
        """Sample ``func(lines_2d, pixels_2d) -> (line_offset, pixel_offset)`` on a coarse grid."""
        lines = coarse_axis(shape[0], step[0])
        pixels = coarse_axis(shape[1], step[1])
        ll, pp = np.meshgrid(lines, pixels, indexing="ij")
        dl, dp = func(ll, pp)
        return cls(
            lines, pixels, np.asarray(dl, dtype=np.float64), np.asarray(dp, dtype=np.float64)
        )

    @property
    def n_heights(self) -> int:
        """Number of height levels ``K``."""
        return int(self.heights.size)

    @property
    def valid(self) -> NDArray[np.bool_]:
        """Coarse samples (``K, lines, pixels``) where both offsets are finite."""
        return np.isfinite(self.line_offset) & np.isfinite(self.pixel_offset)

    def _get_splines(self) -> list[tuple[RectBivariateSpline, RectBivariateSpline]]:
        if self._splines is None:
            splines = []
            for k in range(self.n_heights):
                dl, dp = self.line_offset[k], self.pixel_offset[k]
                valid = np.isfinite(dl) & np.isfinite(dp)
                if not valid.all():
                    if not valid.any():
                        raise NoOverlapError(
                            "no valid offsets: the secondary does not overlap the reference"
                        )
                    from scipy.ndimage import distance_transform_edt

                    idx = distance_transform_edt(
                        ~valid, return_distances=False, return_indices=True
                    )
                    dl = dl[tuple(idx)]
                    dp = dp[tuple(idx)]
                splines.append(
                    (_spline(self.lines, self.pixels, dl), _spline(self.lines, self.pixels, dp))
                )
            self._splines = splines
        return self._splines

    def __getstate__(self) -> dict[str, object]:  # splines are rebuilt on the worker
        state = dict(self.__dict__)
        state["_splines"] = None
        return state

    def _height_weights(
        self, height: NDArray[np.floating] | None, shape: tuple[int, ...]
    ) -> NDArray[np.float64]:
        """Lagrange weights ``(K, *shape)`` of each height level."""
        if self.n_heights == 1:
            return np.ones((1, *shape))
        if height is None:
            raise InputError(
                "this offset model depends on height: pass the height of each output sample"
            )
        h = np.broadcast_to(np.asarray(height, dtype=np.float64), shape)
        H = self.heights
        d = [h - hm for hm in H]  # one pass per level
        w = np.empty((H.size, *shape))
        for k in range(H.size):
            prod = np.full(shape, 1.0 / np.prod([H[k] - H[m] for m in range(H.size) if m != k]))
            for m in range(H.size):
                if m != k:
                    prod *= d[m]
            w[k] = prod
        return w

    def evaluate(
        self,
        lines: NDArray[np.floating],
        pixels: NDArray[np.floating],
        height: NDArray[np.floating] | None = None,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Offsets on the grid ``lines x pixels`` (1-D increasing axes).

        Parameters
        ----------
        lines, pixels
            Reference-scene positions.
        height
            ``(len(lines), len(pixels))`` ellipsoidal heights, m (needed when the model
            has several height levels).

        Returns two ``(len(lines), len(pixels))`` float64 arrays.
        """
        lines = np.asarray(lines, dtype=np.float64)
        pixels = np.asarray(pixels, dtype=np.float64)
        shape = (lines.size, pixels.size)
        splines = self._get_splines()
        if self.n_heights == 1:
            return _grid_eval(splines[0][0], lines, pixels), _grid_eval(
                splines[0][1], lines, pixels
            )
        h = self._height_grid(height, shape)
        vals = np.empty((2, self.n_heights, *shape))
        for k, sp in enumerate(splines):
            vals[0, k] = _grid_eval(sp[0], lines, pixels)
            vals[1, k] = _grid_eval(sp[1], lines, pixels)
        res = np.empty((2, *shape))
        _combine_levels(vals, self.heights, h, res)
        return res[0], res[1]

    def _height_grid(
        self, height: NDArray[np.floating] | None, shape: tuple[int, int]
    ) -> NDArray[np.float64]:
        if height is None:
            raise InputError(
                "this offset model depends on height: pass the height of each output sample"
            )
        return np.ascontiguousarray(np.broadcast_to(np.asarray(height, dtype=np.float64), shape))

    def evaluate_points(
        self,
        lines: NDArray[np.floating],
        pixels: NDArray[np.floating],
        height: NDArray[np.floating] | None = None,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Offsets at scattered points (``lines``, ``pixels``, ``height`` of one shape)."""
        lines = np.asarray(lines, dtype=np.float64)
        pixels = np.asarray(pixels, dtype=np.float64)
        w = self._height_weights(height, lines.shape)
        dl = np.zeros(lines.shape)
        dp = np.zeros(lines.shape)
        for k, (sl, sp) in enumerate(self._get_splines()):
            dl += w[k] * sl(lines, pixels, grid=False)
            dp += w[k] * sp(lines, pixels, grid=False)
        return dl, dp

    def evaluate_derivative(
        self,
        lines: NDArray[np.floating],
        pixels: NDArray[np.floating],
        height: NDArray[np.floating] | None = None,
    ) -> NDArray[np.float64]:
        """Derivative of the pixel offset along lines (height held fixed), on ``lines x pixels``."""
        lines = np.asarray(lines, dtype=np.float64)
        pixels = np.asarray(pixels, dtype=np.float64)
        shape = (lines.size, pixels.size)
        splines = self._get_splines()
        # central difference over one line (FITPACK's parder refuses linear splines)
        vals = np.empty((1, self.n_heights, *shape))
        for k, (_, sp) in enumerate(splines):
            vals[0, k] = _grid_eval(sp, lines + 0.5, pixels) - _grid_eval(sp, lines - 0.5, pixels)
        if self.n_heights == 1:
            return np.asarray(vals[0, 0])
        res = np.empty((1, *shape))
        _combine_levels(vals, self.heights, self._height_grid(height, shape), res)
        return res[0]

    def shifted(self, line_shift: float = 0.0, pixel_shift: float = 0.0) -> OffsetModel:
        """The same model with constant shifts added (e.g. a refinement or an ESD correction)."""
        return OffsetModel(
            self.lines,
            self.pixels,
            self.line_offset + line_shift,
            self.pixel_offset + pixel_shift,
            self.heights,
        )


def coarse_grid_error(
    model: OffsetModel,
    exact: Callable[
        [NDArray[np.float64], NDArray[np.float64]], tuple[NDArray[np.float64], NDArray[np.float64]]
    ],
    lines: NDArray[np.float64],
    pixels: NDArray[np.float64],
    height: NDArray[np.float64] | None = None,
) -> tuple[float, float]:
    """Largest absolute interpolation error (line, pixel) of ``model`` against ``exact``.

    ``exact(lines_2d, pixels_2d)`` gives the true offsets at the points of the grid
    ``lines x pixels`` (choose points between the coarse nodes).
    """
    ll, pp = np.meshgrid(lines, pixels, indexing="ij")
    dl_true, dp_true = exact(ll, pp)
    dl, dp = model.evaluate(lines, pixels, height)
    return float(np.nanmax(np.abs(dl - dl_true))), float(np.nanmax(np.abs(dp - dp_true)))
