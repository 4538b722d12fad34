"""Typed configuration: dataclasses loaded from YAML with one clear error per problem.

Every config in the project (theory and harness) is a dataclass whose fields carry
``metadata={"help": "..."}`` and whose enumerations are ``Literal`` types. ``load_config`` turns a
YAML file (or a dict) into such a dataclass, recursing into nested dataclass fields, and raises
``ConfigError`` naming the file, the dotted field path, what was wrong and the allowed values (field
names for unknown keys, the ``Literal``'s values for enumerations). A dataclass's own ``__post_init__``
calls ``check_literals(self)`` so that direct construction is checked the same way, and keeps only
the rules that involve several fields.

Convention: ``x: Literal["a", "b"] = field(default="a", metadata=doc("help text"))``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types
import typing
from pathlib import Path
from typing import Any, Mapping, TypeVar

T = TypeVar("T")


class ConfigError(ValueError):
    """A configuration problem: names the source, the field path and the allowed values."""


def doc(help: str, **extra: Any) -> dict:
    """Field metadata: ``help`` text (with its paper citation where relevant). Allowed values go in the type."""
    if "choices" in extra:
        raise TypeError("doc(choices=...) is gone: annotate the field with typing.Literal[...] instead "
                        "(the loader and check_literals enforce it)")
    meta = {"help": help}
    meta.update(extra)
    return meta


def literal_values(tp: Any) -> tuple | None:
    """The allowed values of a ``Literal`` annotation, also inside ``Optional``/``list``/``tuple``; else None."""
    origin = typing.get_origin(tp)
    if origin is typing.Literal:
        return typing.get_args(tp)
    if origin in (typing.Union, types.UnionType, list, tuple):
        for a in typing.get_args(tp):
            vals = literal_values(a)
            if vals is not None:
                return vals
    return None


def allowed_values(cls: type, name: str) -> tuple:
    """The allowed values of field ``name`` of dataclass ``cls`` (from its ``Literal`` annotation)."""
    vals = literal_values(typing.get_type_hints(cls)[name])
    if vals is None:
        raise TypeError(f"{cls.__name__}.{name} is not a Literal field")
    return vals


def check_literals(obj: Any, prefix: str = "") -> None:
    """Raise ``ConfigError`` for the first ``Literal``-typed field of dataclass ``obj`` holding a value outside its
    allowed values (lists: every item). For ``__post_init__``: direct construction is checked like loading."""
    hints = typing.get_type_hints(type(obj))
    for f in dataclasses.fields(obj):
        allowed = literal_values(hints[f.name])
        if allowed is None:
            continue
        value = getattr(obj, f.name)
        items = value if isinstance(value, (list, tuple)) else [value]
        optional = type(None) in typing.get_args(hints[f.name])
        for it in items:
            if it not in allowed and not (it is None and optional):
                raise ConfigError(f"{prefix}{f.name}: {it!r} is not allowed; allowed values: "
                                  f"{', '.join(map(str, allowed))}")


def _type_name(tp: Any) -> str:
    if typing.get_origin(tp) is typing.Literal:
        return "one of " + "|".join(map(str, typing.get_args(tp)))
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _coerce(value: Any, tp: Any, where: str) -> Any:
    """Check/convert ``value`` against the annotation ``tp``; raise ConfigError naming ``where``."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for a in args:
            if a is type(None):
                continue
            try:
                return _coerce(value, a, where)
            except ConfigError as e:  # try the next member of the union
                errors.append(str(e))
        lits = literal_values(tp)
        if lits is not None and not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: {value!r} is not allowed; allowed values: {', '.join(map(str, lits))}")
        raise ConfigError(f"{where}: expected {' or '.join(_type_name(a) for a in args)}, got {value!r}")
    if origin is typing.Literal:
        if value not in args:
            raise ConfigError(f"{where}: {value!r} is not allowed; allowed values: {', '.join(map(str, args))}")
        return value
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a mapping for {tp.__name__}, got {value!r}")
        return _build(tp, value, where)
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(args) != len(value):
                raise ConfigError(f"{where}: expected {len(args)} items, got {len(value)}")
            return tuple(_coerce(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args)))
        item = args[0] if args else Any
        out = [_coerce(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(out) if origin is tuple else out
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        kt, vt = args if args else (Any, Any)
        return {_coerce(k, kt, f"{where}.<key>"): _coerce(v, vt, f"{where}.{k}") for k, v in value.items()}
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected true/false, got {value!r}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ConfigError(f"{where}: expected an integer, got {value!r}")
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # YAML reads "1e-5" as a string
            try:
                return float(value)
            except ValueError:
                pass
        raise ConfigError(f"{where}: expected a number, got {value!r}")
    if tp is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{where}: expected a string, got {value!r}")
    if isinstance(tp, type):
        if isinstance(value, tp):
            return value
        raise ConfigError(f"{where}: expected {tp.__name__}, got {value!r}")
    return value


def _build(cls: type[T], data: Mapping[str, Any], where: str) -> T:
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = [k for k in data if k not in fields]
    if unknown:
        raise ConfigError(
            f"{where}: unknown field {unknown[0]!r} in {cls.__name__}; allowed fields: {', '.join(fields)}"
        )
    kwargs = {}
    for name, value in data.items():
        path = f"{where}.{name}" if where else name
        kwargs[name] = _coerce(value, hints[name], path)
    missing = [
        n for n, f in fields.items()
        if n not in kwargs and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ConfigError(f"{where}: missing required field {missing[0]!r} in {cls.__name__}")
    try:
        obj = cls(**kwargs)
    except ConfigError as e:
        raise ConfigError(f"{where}: {e}") from None
    return obj


def from_dict(cls: type[T], data: Mapping[str, Any] | None, source: str = "<dict>") -> T:
    """Build dataclass ``cls`` from a mapping; errors are prefixed with ``source``."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: the top level must be a mapping of fields, got {type(data).__name__}")
    try:
        return _build(cls, data, "")
    except ConfigError as e:
        msg = str(e)
        msg = msg[2:] if msg.startswith(": ") else msg
        raise ConfigError(f"{source}: {msg}") from None


def load_config(cls: type[T], path: str | Path, overrides: Mapping[str, Any] | None = None) -> T:
    """Load a YAML file into dataclass ``cls``. ``overrides`` use dotted keys (``a.b: 1``)."""
    import yaml

    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: config file not found")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from None
    if overrides:
        data = apply_overrides(data, overrides)
    return from_dict(cls, data, str(path))


def apply_overrides(data: dict, overrides: Mapping[str, Any]) -> dict:
    """Return a copy of ``data`` with dotted-key overrides applied (``{"train.lr": 0.1}``)."""
    out = json.loads(json.dumps(data))
    for key, value in overrides.items():
        node = out
        parts = key.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    return out


def parse_override(text: str) -> tuple[str, Any]:
    """Parse ``key=value`` from the command line; the value is read as YAML (``lr=1e-3``, ``tags=[a,b]``)."""
    import yaml

    if "=" not in text:
        raise ConfigError(f"override {text!r}: expected KEY=VALUE")
    k, v = text.split("=", 1)
    return k.strip(), yaml.safe_load(v)


def load_cli_config(cls: type[T], args: Any, sets: str = "overrides", source: str = "<--set>",
                    describe_also: tuple[type, ...] = (), **fields: Any) -> T | None:
    """The config of a CLI command, from its ``--config``/``--set``/``--describe`` arguments in one place.

    ``args.describe``: print ``describe(cls)`` (then each of ``describe_also`` after a blank line) and return None
    (the command then exits 0). Else the ``--set KEY=VALUE`` strings in ``args.<sets>`` (values read as YAML) and then
    every ``fields`` item given (not None or "", e.g. ``out=args.out``) override ``args.config`` (a YAML file,
    :func:`load_config`) or, without one, the dataclass defaults (errors then name ``source``)."""
    if getattr(args, "describe", False):
        print(describe(cls))
        for other in describe_also:
            print()
            print(describe(other))
        return None
    overrides = dict(parse_override(s) for s in getattr(args, sets))
    overrides.update({k: v for k, v in fields.items() if v is not None and v != ""})
    path = getattr(args, "config", None)
    if path:
        return load_config(cls, path, overrides)
    return from_dict(cls, apply_overrides({}, overrides), source)


def to_dict(obj: Any) -> Any:
    """Dataclass → plain dict (tuples become lists), for YAML/JSON output."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    return obj


def config_hash(obj: Any, exclude: tuple[str, ...] = ()) -> str:
    """Stable short hash of a config (dataclass or dict), ignoring top-level keys in ``exclude``."""
    d = to_dict(obj)
    if isinstance(d, dict):
        d = {k: v for k, v in d.items() if k not in exclude}
    blob = json.dumps(d, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def _short_type(tp: Any) -> str:
    """``str | None``, ``list[str]``, ``int``: the type as a reader writes it (a Literal is a str)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Literal:
        return type(args[0]).__name__
    if origin in (typing.Union, types.UnionType):
        return " | ".join("None" if a is type(None) else _short_type(a) for a in args)
    if origin in (list, tuple, dict):
        return f"{origin.__name__}[{', '.join('...' if a is Ellipsis else _short_type(a) for a in args)}]"
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def describe(cls: type, indent: str = "") -> str:
    """Human-readable field documentation of a config dataclass (name, type, default, help, allowed values); the
    fields of a nested config dataclass are listed under it, indented."""
    lines = [f"{indent}{cls.__name__}:"]
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        nested = hints[f.name] if dataclasses.is_dataclass(hints[f.name]) else None
        if nested is not None:
            default = f"{nested.__name__}(...)"
        elif f.default is not dataclasses.MISSING:
            default = repr(f.default)
        elif f.default_factory is not dataclasses.MISSING:
            default = repr(f.default_factory())
        else:
            default = "(required)"
        allowed = literal_values(hints[f.name])
        line = f"{indent}  {f.name}: {_short_type(hints[f.name])} = {default}"
        if "help" in f.metadata:
            line += f"  # {f.metadata['help']}"
        if allowed is not None:
            line += f" [allowed: {', '.join(map(str, allowed))}]"
        lines.append(line)
        if nested is not None:
            lines.append(describe(nested, indent + "    "))
    return "\n".join(lines)
