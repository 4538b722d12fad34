"""Model names and the offline default model: :func:`resolve_model`, :func:`prepare_default_model`."""

from harness.models.prepare import ModelError, default_model_dir, prepare_default_model
from harness.models.resolve import ALIASES, resolve_model

__all__ = ["ALIASES", "ModelError", "default_model_dir", "prepare_default_model", "resolve_model"]
