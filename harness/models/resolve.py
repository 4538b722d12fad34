"""Model names -> something ``from_pretrained`` (or vLLM) can load.

The order of the checks (each failure is one :class:`ModelError` naming the model and the fix):

1. ``"smollm2"`` / ``"default"`` / ``"smollm2-135m-instruct"`` -> the prepared local folder of the offline
   default model (prepared on first use, see ``harness/models/prepare.py``);
2. an existing local folder passes through (it must hold a ``config.json`` or ``adapter_config.json``);
3. a name that cannot be a hub id (starts with ``/``, ``.`` or ``~``, has more than one ``/``, a backslash, or no
   ``/`` at all) and a name whose first folder exists here (``models/smolm2`` with a ``models/`` folder) are local
   paths: a missing one is reported as a missing folder, and the hub is never asked;
4. only an ``owner/name`` id is looked up on the hub: one that is in the local hub cache passes through; with
   ``HF_HUB_OFFLINE=1`` any other is reported at once (no local folder, not cached, hub off); online, one quick
   ``model_info`` call (``HUB_TIMEOUT_S``) tells a missing repository or an unreachable hub apart, so a typo does not
   cost a minute of download retries and a traceback.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from harness.models.prepare import DEFAULT_NAME, ModelError, default_model_dir, is_prepared, prepare_default_model

ALIASES = ("smollm2", "default", DEFAULT_NAME)
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")
HUB_TIMEOUT_S = 5.0


def _hub_offline() -> bool:
    return any(os.environ.get(k, "").strip().lower() in ("1", "true", "yes", "on")
               for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def _in_hub_cache(repo_id: str) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    try:
        return isinstance(try_to_load_from_cache(repo_id, "config.json"), str)
    except Exception:  # noqa: BLE001 - an invalid id or an unreadable cache: not cached
        return False


def _hub_lookup(repo_id: str) -> str | None:
    """None when the hub knows ``repo_id``; else the reason it cannot be used (one short phrase)."""
    try:
        from huggingface_hub import model_info
        from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError
    except ImportError:
        return None  # no client to ask: leave it to from_pretrained
    try:
        model_info(repo_id, timeout=HUB_TIMEOUT_S)
    except GatedRepoError:
        return None  # exists; from_pretrained reports the access problem itself
    except RepositoryNotFoundError:
        return "the hub has no model of that id (or it is private)"
    except Exception as e:  # noqa: BLE001 - network errors come from several libraries (httpx, requests, OSError)
        return f"the hub could not be reached ({type(e).__name__}: {str(e)[:120]})"
    return None


def resolve_model(name: str, prepare: bool = True, hub_lookup: bool = True) -> str:
    """Return a local folder or hub id for ``name`` (see module docstring); raise ModelError if it cannot be used.

    ``hub_lookup=False`` passes an ``owner/name`` id through without asking the hub or its cache."""
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
            raise ModelError(f"model path {p}: a folder without config.json (not a transformers model folder); "
                             "point model at the folder that holds config.json")
        return str(p)
    if p.exists():
        raise ModelError(f"model path {p}: is a file, expected a transformers model folder (the folder holding "
                         "config.json)")
    builtin = f"or one of the built-in names ({', '.join(ALIASES)})"
    first = Path(name).parts[0] if Path(name).parts else name
    looks_local = (name.startswith(("/", "./", "../", "~")) or name.count("/") > 1 or "\\" in name
                   or not _HUB_ID.match(name) or Path(first).expanduser().is_dir())
    if looks_local:
        raise ModelError(
            f"unknown model {name!r}: no such local folder ({p.absolute()} does not exist) and not a hub id of the "
            f"form 'owner/name'; fix: give the path of an existing model folder (the one holding config.json), "
            f"{builtin}")
    if not hub_lookup or _in_hub_cache(name):
        return name
    where = f"no local folder {p.absolute()}"
    if _hub_offline():
        raise ModelError(
            f"unknown model {name!r}: {where}, and as a hub id it is not in the local hub cache while the hub is "
            f"switched off (HF_HUB_OFFLINE=1); fix: give the path of an existing model folder, {builtin}, or "
            f"download it on a machine with internet access")
    print(f"model {name!r}: {where}; looking it up on the hub as 'owner/name' ...", flush=True)
    reason = _hub_lookup(name)
    if reason:
        raise ModelError(f"unknown model {name!r}: {where}, and as a hub id {reason}; fix: give the path of an "
                         f"existing model folder, {builtin}, or a hub id that exists")
    return name
