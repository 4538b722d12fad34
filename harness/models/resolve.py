"""Model names -> something ``from_pretrained`` (or vLLM) can load.

``"smollm2"`` / ``"default"`` / ``"smollm2-135m-instruct"`` -> the prepared local folder of the offline
default model (prepared on first use, see :mod:`harness.models.prepare`); an existing local folder
passes through (it must hold a ``config.json``); anything shaped like a hub id (``org/name``) passes
through unchanged for ``from_pretrained`` to fetch. A path that looks local (starts with ``/``, ``.``,
``~`` or exists partly) but is missing gives one :class:`ModelError`.
"""

from __future__ import annotations

import re
from pathlib import Path

from harness.models.prepare import DEFAULT_NAME, ModelError, default_model_dir, is_prepared, prepare_default_model

ALIASES = ("smollm2", "default", DEFAULT_NAME)
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")


def resolve_model(name: str, prepare: bool = True) -> str:
    """Return a local folder or hub id for ``name`` (see module docstring); raise ModelError if unknown."""
    if not isinstance(name, str) or not name.strip():
        raise ModelError(f"model name must be a non-empty string, got {name!r}")
    name = name.strip()
    if name.lower() in ALIASES:
        d = default_model_dir()
        if is_prepared(d):
            return str(d)
        if not prepare:
            raise ModelError(f"the default model is not prepared yet at {d}; run: tmc model prepare")
        return str(prepare_default_model())
    p = Path(name).expanduser()
    if p.is_dir():
        if not (p / "config.json").exists() and not (p / "adapter_config.json").exists():
            raise ModelError(f"model path {p}: a folder without config.json (not a transformers model folder)")
        return str(p)
    if p.exists():
        raise ModelError(f"model path {p}: is a file, expected a transformers model folder")
    looks_local = name.startswith(("/", "./", "../", "~")) or name.count("/") > 1 or "\\" in name
    if looks_local or not _HUB_ID.match(name):
        raise ModelError(
            f"unknown model {name!r}: not an existing local folder, not a hub id of the form 'org/name', "
            f"and not one of the built-in names ({', '.join(ALIASES)})"
        )
    return name
