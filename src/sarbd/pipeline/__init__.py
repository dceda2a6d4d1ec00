"""The build pipeline: configuration, stage caching, and `sarbd build`.

ingest -> geometry -> coregister -> insar -> signatures -> radarcode -> label -> export,
each stage cached by a hash of its inputs and settings (see :mod:`sarbd.pipeline.cache`).
"""

from sarbd.pipeline.config import BuildConfig, load_config

__all__ = ["BuildConfig", "load_config"]
