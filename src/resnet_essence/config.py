"""Config checks that come before any job: command-line types and what a schema cannot say.

``snakemake --config depths=[20,56]`` hands every value over as a string; ``coerce`` turns such
strings into the type the schema asks for, so the schema then judges the value, not its spelling.
"""

from __future__ import annotations

from difflib import get_close_matches
from typing import Any

from .nets.depths import blocks_per_stage
from .nets.interventions import GRAMMAR, parse_arch

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


def in_schema_order(value: Any, schema: dict) -> Any:
    """``value`` with every mapping's keys in the order the schema lists them (keys it does not
    list last, for the schema to reject). Snakemake compares a job's params as written, key
    order included, and lays a ``--configfile`` over config.yaml with the overlay's keys first:
    without one order, the same settings reached another way would rerun every job."""
    if isinstance(value, dict) and "properties" in schema:
        props = schema["properties"]
        keys = [k for k in props if k in value] + [k for k in value if k not in props]
        return {k: in_schema_order(value[k], props[k]) if k in props else value[k] for k in keys}
    return value


def check(config: dict) -> None:
    """Constraints beyond the schema; ValueError naming the config key."""
    check_archs(config["archs"])
    bad = []
    for depth in config["depths"]:
        try:
            blocks_per_stage(depth)
        except ValueError:
            bad.append(depth)
    if bad:
        raise ValueError(
            f"config key 'depths': {bad} not of the form 6n+2 (8, 14, 20, 26, 32, 44, 56, 110, ...)"
        )
    model = config["model"]
    if model["init"] != "he" and model["norm"] != "none":
        raise ValueError(
            f"config key 'model.init': {model['init']} is made for nets without normalisation; "
            f"set model.norm: none (it is {model['norm']!r}) or model.init: he"
        )
    train = config["train"]
    late = [e for e in train["snapshot_epochs"] if e > train["epochs"]]
    if late:
        raise ValueError(
            f"config key 'train.snapshot_epochs': {late} after the last epoch ({train['epochs']})"
        )
    if train["warmup_epochs"] >= train["epochs"]:
        raise ValueError(
            f"config key 'train.warmup_epochs': {train['warmup_epochs']} leaves no epoch after "
            f"the warm-up (train.epochs is {train['epochs']})"
        )
    too_small = [n for n in config["collapse"]["example_dims"] if n < 2]
    if too_small:
        raise ValueError(
            f"config key 'collapse.example_dims': {too_small} below 2, the spiral's dimension"
        )


def check_archs(archs: list[str]) -> None:
    """ValueError naming config key 'archs' and every entry that is not an arch name
    (nets/interventions.py: a base net and the interventions on it, e.g. residual-a0.5); the
    schema's pattern knows the spelling, not which options go together (plain-a0.5)."""
    reasons = []
    for arch in archs:
        try:
            parse_arch(arch)
        except ValueError as error:
            reasons.append(str(error).removesuffix(f"; an arch name is {GRAMMAR}"))
    if reasons:
        raise ValueError(f"config key 'archs': {'; '.join(reasons)}; an arch name is {GRAMMAR}")


def device_problem(device: str, cuda_devices: int) -> str | None:
    """What is wrong with config key 'device' on a machine with ``cuda_devices`` CUDA devices
    (None: nothing; ``auto`` is the CPU where there is none)."""
    if device in ("cpu", "auto"):
        return None
    index = int(device.partition(":")[2] or 0)
    if not cuda_devices:
        return (
            f"config key 'device': {device!r} but CUDA is not available on this machine; "
            "use device=cpu or device=auto (results already computed are kept either way)"
        )
    if index >= cuda_devices:
        return (
            f"config key 'device': {device!r} but this machine has {cuda_devices} CUDA "
            f"device(s), cuda:0 to cuda:{cuda_devices - 1}"
        )
    return None


def check_device(device: str) -> None:
    """ValueError when config key 'device' names a CUDA device this machine lacks; asks torch
    only for a CUDA device, and says nothing where torch is not installed (Snakemake run
    outside the project's environment: the training job checks again where it runs)."""
    if device in ("cpu", "auto"):
        return
    try:
        import torch
    except ImportError:
        return
    problem = device_problem(device, torch.cuda.device_count())
    if problem:
        raise ValueError(problem)


def problems(config: dict, schema: dict) -> list[str]:
    """Every way ``config`` breaks ``schema``, each one short line: the key, what is wrong,
    what is allowed, and for an unknown key the nearest known one."""
    from jsonschema import Draft202012Validator

    out = []
    for error in sorted(Draft202012Validator(schema).iter_errors(config), key=lambda e: e.path):
        path = ".".join(str(p) for p in error.absolute_path)
        where = f"'{path}'" if path else "the top level"
        if error.validator == "additionalProperties":
            allowed = sorted(error.schema.get("properties", {}))
            for key in sorted(set(error.instance) - set(allowed)):
                name = f"{path}.{key}" if path else key
                guess = get_close_matches(key, allowed, n=1, cutoff=0.6)
                hint = f"; did you mean '{guess[0]}'?" if guess else ""
                out.append(f"unknown key '{name}'{hint} (allowed here: {', '.join(allowed)})")
        elif error.validator == "required":
            out.append(f"{where} lacks the key {error.message.split()[0]}")
        elif error.validator == "enum":
            out.append(f"{where}: {error.instance!r} is not one of {error.validator_value}")
        else:
            about = error.schema.get("description")
            out.append(f"{where}: {error.message}" + (f" ({about.strip()})" if about else ""))
    return out


def validate(config: dict, schema: dict) -> None:
    """ValueError listing every problem of ``config`` in a few lines, or nothing."""
    found = problems(config, schema)
    if found:
        listed = "\n".join(f"  - {line}" for line in found)
        raise ValueError(
            f"the configuration has {len(found)} problem(s):\n{listed}\n"
            "Every key, its type and range: workflow/schemas/config.schema.yaml; "
            "the values of the default: config.yaml."
        )
