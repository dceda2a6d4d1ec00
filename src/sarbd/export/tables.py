"""Parquet tables of a SARbd dataset: labelled pixels and chip indices."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from sarbd.utils.files import atomic_output

__all__ = ["write_parquet"]


def write_parquet(
    df: pd.DataFrame, path: str | os.PathLike[str], metadata: Mapping[str, Any] | None = None
) -> Path:
    """Write ``df`` as Parquet (zstd) atomically; ``metadata`` goes to the schema as JSON (key ``sarbd``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    if metadata:
        meta = dict(table.schema.metadata or {})
        meta[b"sarbd"] = json.dumps(dict(metadata), default=str).encode()
        table = table.replace_schema_metadata(meta)
    path = Path(path)
    with atomic_output(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")
    return path
