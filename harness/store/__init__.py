"""The resumable Parquet sample store (see :mod:`harness.store.sample_store`)."""

from .sample_store import SampleStore, StoreError, resolved_at
from .schema import SAMPLE_COLUMNS

__all__ = ["SampleStore", "StoreError", "SAMPLE_COLUMNS", "resolved_at"]
