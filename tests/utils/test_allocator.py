"""sarbd.utils.allocator: glibc's thresholds, and the page faults they save when chunks are encoded."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys

import pytest

# In a fresh interpreter: encode a 16 MiB float32 chunk with Blosc (what a Zarr write does)
# six times and count the minor page faults of the last four.
_PROBE = """
import json, resource, sys
import numpy as np, numcodecs
from sarbd.utils.allocator import tune_allocator
applied = tune_allocator() if sys.argv[1] == "tuned" else None
codec = numcodecs.Blosc(cname="lz4", clevel=5, shuffle=1)
x = np.random.default_rng(0).random(2**22, dtype=np.float32)
for _ in range(2):
    codec.encode(x)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(4):
    codec.encode(x)
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
print(json.dumps({"applied": applied, "faults": faults}))
"""

glibc = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
    reason="glibc's mallopt: on other C libraries tune_allocator only returns False",
)


def _probe(mode: str, **env: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    clean.pop("GLIBC_TUNABLES", None)
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, mode],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


@glibc
def test_tuned_allocator_reuses_the_encode_buffers():
    default, tuned = _probe("default"), _probe("tuned")
    assert tuned["applied"] is True
    # default glibc: each encode maps fresh pages for its 16 MiB output (~4000 faults per
    # encode); tuned: the freed buffer is reused from the heap
    assert default["faults"] > 4 * 2000
    assert tuned["faults"] < default["faults"] / 10


@glibc
def test_the_users_own_malloc_settings_are_left_alone():
    assert _probe("tuned", MALLOC_TRIM_THRESHOLD_="65536")["applied"] is False
    assert _probe("tuned", GLIBC_TUNABLES="glibc.malloc.mmap_threshold=4096")["applied"] is False


def test_the_sarbd_command_tunes_its_allocator(monkeypatch):
    import sarbd.cli as cli

    calls = []
    monkeypatch.setattr(cli, "tune_allocator", lambda: calls.append(1) or True)
    monkeypatch.setattr(cli, "_main", lambda: 0)
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    assert exit_.value.code == 0 and calls == [1]
