"""Config checks that come before any job: command-line types and what a schema cannot say.

``snakemake --config depths=[20,56]`` hands every value over as a string; ``coerce`` turns such
strings into the type the schema asks for, so the schema then judges the value, not its spelling.
"""

from __future__ import annotations

from typing import Any

_TRUE, _FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}


def _types(schema: dict) -> set[str]:
    kind = schema.get("type", [])
    return {kind} if isinstance(kind, str) else set(kind)


def _scalar(value: str, types: set[str]) -> Any:
    if "null" in types and value.lower() in ("null", "none", "~"):
        return None
    if "integer" in types:
        try:
            return int(value)
        except ValueError:
            pass
    if "number" in types:
        try:
            return float(value)
        except ValueError:
            pass
    if "boolean" in types and value.lower() in _TRUE | _FALSE:
        return value.lower() in _TRUE
    return value


def coerce(value: Any, schema: dict) -> Any:
    """``value`` with every string converted to the type its place in ``schema`` asks for.

    Values that do not convert stay as they are, for the schema to reject with its message.
    """
    types = _types(schema)
    if isinstance(value, dict) and "properties" in schema:
        props = schema["properties"]
        return {k: coerce(v, props[k]) if k in props else v for k, v in value.items()}
    if isinstance(value, list) and "items" in schema:
        return [coerce(v, schema["items"]) for v in value]
    if isinstance(value, str) and types - {"string"}:
        return _scalar(value, types)
    return value


def section_defaults(schema: dict, section: str) -> dict:
    """The schema's default of every key of one config section (``collapse``, ``train``, ...)."""
    properties = schema["properties"][section]["properties"]
    return {key: spec["default"] for key, spec in properties.items() if "default" in spec}


def check(config: dict) -> None:
    """Constraints beyond the schema; ValueError naming the config key."""
    bad = [d for d in config["depths"] if (d - 2) % 6 != 0]
    if bad:
        raise ValueError(
            f"config key 'depths': {bad} not of the form 6n+2 (8, 14, 20, 26, 32, 44, 56, 110, ...)"
        )
    last = config["train"]["epochs"]
    late = [e for e in config["gradstats"]["snapshot_epochs"] if e > last]
    if late:
        raise ValueError(
            f"config key 'gradstats.snapshot_epochs': {late} after the last epoch ({last})"
        )
    too_small = [n for n in config["collapse"]["example_dims"] if n < 2]
    if too_small:
        raise ValueError(
            f"config key 'collapse.example_dims': {too_small} below 2, the spiral's dimension"
        )
