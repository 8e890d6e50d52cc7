"""What every rule script shares: logging to the rule's log file, and a clean exit on bad input."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(log_file: str | Path | None = None, level: int = logging.INFO) -> None:
    """Log to stderr and, under Snakemake, to the rule's ``log:`` file as well."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, mode="a", encoding="utf-8"))
    logging.basicConfig(level=level, format=FORMAT, handlers=handlers, force=True)


def run_main(main: Callable[[], None], name: str) -> None:
    """Run a script's body; a ValueError (bad input) becomes one clear line and exit status 2."""
    try:
        main()
    except ValueError as error:
        logging.getLogger(name).error("%s", error)
        raise SystemExit(2) from error
