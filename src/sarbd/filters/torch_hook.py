"""Apply a user-supplied PyTorch denoiser chunk-wise, with halos.

Any ``torch.nn.Module`` (or callable on tensors) that maps a ``(batch, 1, H, W)``
float tensor to a tensor of the same shape can be plugged in as a speckle filter,
e.g. a trained despeckling CNN. Each Dask chunk is extended by ``depth`` pixels of
its neighbours before the model sees it and trimmed afterwards, so chunk borders
leave no trace provided ``depth`` covers the model's receptive-field radius. At the
image edges no padding is added: the model sees the true edge, as it would on the
whole image.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from sarbd.filters._chunked import apply_spatial

__all__ = ["apply_torch"]


def _torch_kernel(
    x: np.ndarray, model: Callable[..., Any], device: str, transform: str | None
) -> np.ndarray:
    import torch

    flat = np.ascontiguousarray(x, dtype=np.float32).reshape((-1, 1, *x.shape[-2:]))
    valid = np.isfinite(flat)
    data = np.where(valid, flat, 0.0).astype(np.float32)
    if transform == "log":
        data = np.log(np.maximum(data, np.finfo(np.float32).tiny))
    with torch.no_grad():
        t = torch.from_numpy(data).to(device)
        y = model(t)
        out = y.detach().to("cpu").numpy().astype(np.float64)
    if out.shape != data.shape:
        raise ValueError(
            f"the denoiser must keep the shape: got {out.shape} for input {data.shape}"
        )
    if transform == "log":
        out = np.exp(out)
    out = np.where(valid, out, np.nan)
    return out.reshape(x.shape)


def apply_torch(
    x: Any,
    model: Callable[..., Any],
    *,
    depth: int | tuple[int, int] = 16,
    device: str = "cpu",
    transform: str | None = None,
) -> Any:
    """Run a PyTorch denoiser over (line, pixel) images, chunk-wise with halos.

    Parameters
    ----------
    x
        Real image(s) with (line, pixel) last (NumPy, Dask or xarray); leading axes
        are flattened into the batch dimension.
    model
        ``torch.nn.Module`` or callable taking and returning ``(batch, 1, H, W)``
        float32 tensors. It is called under ``torch.no_grad()``; put it in eval mode.
    depth
        Halo in pixels (lines, pixels); at least the model's receptive-field radius.
    device
        Torch device for the model (``"cpu"``, ``"cuda"``).
    transform
        ``None`` (the model sees the values as they are) or ``"log"`` (the model
        sees ``log(x)`` and its output is exponentiated, common for despeckling
        networks trained on log-intensity).

    Returns
    -------
    Float32 array, NaN where the input is NaN (NaN is given to the model as 0).
    """
    d = (depth, depth) if isinstance(depth, int) else (int(depth[0]), int(depth[1]))
    if transform not in (None, "log"):
        raise ValueError("transform must be None or 'log'")
    return apply_spatial(
        _torch_kernel,
        x,
        d,
        boundary="none",
        dtype=np.float32,
        model=model,
        device=device,
        transform=transform,
    )
