"""What every rule script shares: logging to the rule's log file, and a clean exit on bad input."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(
    log_file: str | Path | None = None, level: int = logging.INFO, resumable: bool = False
) -> None:
    """Log to stderr and, under Snakemake, to the rule's ``log:`` file as well; ``resumable``:
    the log also keeps the lines of earlier attempts that did not finish (``journal_of``)."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        if resumable:
            journal = journal_of(log_file)
            if journal.exists():
                earlier = journal.read_text(encoding="utf-8")
                with open(log_file, "a", encoding="utf-8") as fh:
                    fh.write(earlier + JOURNAL_MARK)
            handlers.append(logging.FileHandler(journal, mode="a", encoding="utf-8"))
        handlers.append(logging.FileHandler(log_file, mode="a", encoding="utf-8"))
    logging.basicConfig(level=level, format=FORMAT, handlers=handlers, force=True)


# what separates an interrupted attempt's lines from those of the attempt that resumed it
JOURNAL_MARK = "--- the lines above are from an earlier attempt that did not finish ---\n"


def journal_of(log_file: str | Path) -> Path:
    """The undeclared twin of a rule's log, ``<log>.unfinished``: Snakemake deletes a job's log
    before it runs the job again, so a job that resumes (train, from its checkpoint) would lose
    the lines written before a kill; this file keeps them until an attempt finishes."""
    path = Path(log_file)
    return path.with_name(path.name + ".unfinished")


def finish_journal(log_file: str | Path | None) -> None:
    """The attempt finished: its lines are in the log, the journal can go."""
    if log_file:
        journal_of(log_file).unlink(missing_ok=True)


def run_main(main: Callable[[], None], name: str) -> None:
    """Run a script's body; bad input (ValueError: a bad option, a damaged file) becomes one
    clear line in the job's log and exit status 2, a failed write (OSError: a full disk, a
    missing directory) one line naming the path and status 1, and anything else (a bug) its
    traceback in the job's log and status 1."""
    try:
        main()
    except ValueError as error:
        logging.getLogger(name).error("%s", error)
        raise SystemExit(2) from error
    except OSError as error:
        logging.getLogger(name).error("%s", error)
        raise SystemExit(1) from error
    except Exception as error:
        # Snakemake sends a script's stderr to the terminal only: logged, the traceback also
        # reaches the rule's log file, which Snakemake's error message points to
        logging.getLogger(name).exception("unexpected error, a bug in %s", name)
        raise SystemExit(1) from error


def guard_shell(doc: str | None) -> None:
    """Run from a shell, a rule script has no ``snakemake`` object: say how to run it instead.

    Rule scripts take every input, output and parameter from Snakemake, so that a rule alone
    trains and measures exactly what the pipeline would; the way to run one is to ask Snakemake
    for one of its outputs (the script's docstring gives an example).
    """
    print(
        f"{(doc or '').strip()}\n\nThis is a Snakemake rule script; run it through Snakemake, e.g. "
        "`snakemake --cores 1 <one of its outputs>` (README: 'Running one rule alone').",
        file=sys.stderr,
    )
    raise SystemExit(2)


def library_for_jobs(src: str) -> None:
    """Put ``src`` (this checkout's library) first on the PYTHONPATH that jobs inherit.

    Called by the Snakefile: a job then imports this checkout's library whether it runs in the
    venv the project is installed in or in a conda environment that holds only its dependencies
    (workflow/envs/), and a cluster job gets the same when its Snakemake reads the Snakefile.
    """
    paths = [src, *[p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))


def rule_script(
    namespace: dict, body: Callable[[Any], None], name: str, resumable: bool = False
) -> None:
    """How every rule script ends: under Snakemake, log to the rule's log and run ``body`` with
    the ``snakemake`` object (bad input: one line and exit status 2, ``run_main``); run from a
    shell, say how to run it instead (``guard_shell``). ``resumable``: a job that resumes after
    a kill, whose log keeps the lines of the attempts before (``journal_of``)."""
    smk = namespace.get("snakemake")
    if smk is not None:
        log_file = smk.log[0] if smk.log else None
        setup_logging(log_file, resumable=resumable)
        run_main(lambda: body(smk), name)
        if resumable:
            finish_journal(log_file)
    elif namespace.get("__name__") == "__main__":
        guard_shell(namespace.get("__doc__"))
