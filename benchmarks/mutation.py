"""Mutation testing of the code that decides a verdict, with mutmut: how many of its mutants the
fast tier's tests kill.

Run as ``python benchmarks/mutation.py`` from the repository root (see ``--help`` and
benchmarks/README.md). It never touches the working tree: it copies the committed tree
(``git archive HEAD``, or the ``--commit`` of a recorded run) to a temporary folder, puts the
working tree's ``tests/`` over it (``--tests-from head`` keeps the committed tests), adds a
``[tool.mutmut]`` section to that copy's pyproject.toml and runs mutmut there:

1. mutmut writes every mutant of ``--modules`` (by default ``stats.py``, ``claims/``,
   ``tables/aggregate.py``, ``report/verdicts.py`` and ``report/measurements.py``);
2. ``--sample N --seed S`` draws N of them at random (all of them without ``--sample``);
3. ``mutmut run`` tests them with ``--workers`` children (default 1: two cores, shared), each
   against the tests of ``--tests`` (fast tier only, ``-m "not pipeline"``) that call the mutated
   function, until one fails. ``--max-minutes`` bounds the whole script: past it mutmut is
   interrupted and the mutants it had not reached are counted as not checked.

It writes ``benchmarks/results/mutation.json`` (the counts and the score) and
``benchmarks/results/mutation-survivors.txt`` (each mutant that no test killed: where it is, the
diff of its function, and a verdict written by hand, which a rerun keeps for the same change).
Progress goes to the log every ``--progress-seconds``.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import glob
import hashlib
import importlib.metadata
import json
import math
import os
import platform
import random
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

try:
    from resnet_essence.files import read_json, write_json, write_text
except ImportError:  # a plain checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from resnet_essence.files import read_json, write_json, write_text

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"

# the code that decides a verdict (issue #37)
MODULES = [
    "src/resnet_essence/stats.py",
    "src/resnet_essence/claims/*.py",
    "src/resnet_essence/tables/aggregate.py",
    "src/resnet_essence/report/verdicts.py",
    "src/resnet_essence/report/measurements.py",
]
# the fast-tier tests of those modules; the optional ones are taken when they exist
TESTS = [
    "tests/test_stats.py",
    "tests/test_claims.py",
    "tests/test_claims_interventions.py",
    "tests/test_tables.py",
    "tests/test_report.py",
    "tests/test_published.py",
    # the other fast-tier files that import those modules (51 tests, 8 s)
    "tests/test_measures.py",
    "tests/test_gradstats.py",
    "tests/test_probes.py",
    "tests/test_report_interventions.py",
    # the cell-by-cell tests of the table writers and the decision code's edges (#37)
    "tests/test_aggregate_exact.py",
    "tests/test_report_tables_exact.py",
    "tests/test_claims_edges.py",
]
OPTIONAL_TESTS = ["tests/test_verdict_oracle.py", "tests/test_table_writers.py"]
FAST_TIER = ["-m", "not pipeline"]

# mutmut's statuses, grouped: a timeout counts as killed (the mutant changed what the tests saw)
DETECTED = {"killed", "timeout", "caught by type check"}
NOT_DETECTED = {"survived", "no tests", "suspicious", "segfault", "check was interrupted by user"}
IGNORED = {"skipped", "not checked"}
UNCLASSIFIED = "unclassified"
PHASES = (
    "Generating mutants",
    "Running stats",
    "Listing all tests",
    "Running clean tests",
    "Running forced fail test",
    "Running mutation testing",
)


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--modules",
        nargs="+",
        default=MODULES,
        metavar="PATH",
        help="source files to mutate, relative to the repository root (globs "
        "allowed; default: the verdict code)",
    )
    parser.add_argument(
        "--tests",
        nargs="+",
        metavar="PATH",
        help="test files to run (default: "
        + " ".join(TESTS)
        + ", and "
        + " ".join(OPTIONAL_TESTS)
        + " where present)",
    )
    parser.add_argument(
        "--tests-from",
        choices=("worktree", "head"),
        default="worktree",
        help="take tests/ from the working tree (default) or from the commit",
    )
    parser.add_argument(
        "--commit",
        default="HEAD",
        metavar="REV",
        help="the commit whose source is mutated (default HEAD); an earlier one reproduces the "
        "mutants, and so the sample, of a recorded run",
    )
    parser.add_argument(
        "--sample",
        type=int,
        metavar="N",
        help="test a random sample of N mutants (default: all of them)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample (default 0)")
    parser.add_argument(
        "--max-minutes",
        type=float,
        default=30.0,
        help="wall-time bound of the whole script (default 30)",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="mutmut's --max-children (default 1)"
    )
    parser.add_argument("--progress-seconds", type=float, default=30.0)
    parser.add_argument("--out", type=Path, default=RESULTS / "mutation.json")
    parser.add_argument("--survivors", type=Path, default=RESULTS / "mutation-survivors.txt")
    parser.add_argument(
        "--rescore",
        action="store_true",
        help="run nothing: read the verdicts of --survivors and update the equivalent count and "
        "score of --out (and the survivors file's header)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the work folder (to run `mutmut show` or `browse` there)",
    )
    args = parser.parse_args(argv)
    if args.sample is not None and args.sample < 1:
        parser.error("--sample must be at least 1")
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.max_minutes <= 0:
        parser.error("--max-minutes must be positive")
    return args


def default_tests(root: Path) -> list[str]:
    return TESTS + [t for t in OPTIONAL_TESTS if (root / t).exists()]


# --- the copy -------------------------------------------------------------------------------


def git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def copy_tree(work: Path, tests_from: str, commit: str = "HEAD") -> None:
    """The tree of ``commit`` in ``work``, with the working tree's tests/ unless ``tests_from``
    is 'head' (then the commit's own)."""
    archive = subprocess.Popen(["git", "-C", str(ROOT), "archive", commit], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", str(work)], stdin=archive.stdout, check=True)
    archive.stdout.close()
    if archive.wait() != 0:
        raise SystemExit(f"git archive {commit} failed")
    if tests_from == "worktree":
        shutil.rmtree(work / "tests")
        shutil.copytree(
            ROOT / "tests",
            work / "tests",
            ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"),
        )


def describe_tests(work: Path, tests: list[str], tests_from: str) -> list[dict]:
    """Each test file run, its SHA-256 and whether it is as committed."""
    changed = {}
    if tests_from == "worktree":
        # --no-optional-locks: reading the state never rewrites the index; the output is not
        # stripped (git() strips it): a first line ' M path' would lose its leading blank
        status = subprocess.run(
            ["git", "-C", str(ROOT), "--no-optional-locks", "status", "--porcelain", "--", "tests"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        for line in status.splitlines():
            changed[line[3:].strip()] = line[:2].strip() or "M"
    records = []
    for test in tests:
        digest = hashlib.sha256((work / test).read_bytes()).hexdigest()
        states = {"??": "untracked", "M": "modified", "A": "added"}
        state = states.get(changed.get(test), "committed")
        records.append({"path": test, "sha256": digest, "state": state})
    return records


def resolve_modules(work: Path, patterns: list[str]) -> list[str]:
    files = []
    for pattern in patterns:
        found = sorted(
            str(Path(p).relative_to(work))
            for p in glob.glob(str(work / pattern))
            if p.endswith(".py")
        )
        if not found:
            raise SystemExit(f"--modules {pattern}: no such Python file in the committed tree")
        if any(not f.startswith("src/") for f in found):
            raise SystemExit(f"--modules {pattern}: only files under src/ can be mutated")
        files += [f for f in found if f not in files]
    return files


def toml_list(values: list[str]) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def mutmut_config(work: Path, modules: list[str], tests: list[str]) -> str:
    """The ``[tool.mutmut]`` section for the copy: every top-level file and folder goes into
    mutmut's ``mutants/`` folder, since the tests read config.yaml, docs/ and README.md."""
    also_copy = sorted(
        p.name
        for p in work.iterdir()
        if p.name not in {"src", "tests", "pyproject.toml", "mutants"}
    )
    return "\n".join(
        [
            "",
            "[tool.mutmut]",
            'source_paths = ["src"]',
            f"only_mutate = {toml_list(modules)}",
            f"also_copy = {toml_list(also_copy)}",
            f"pytest_add_cli_args = {toml_list([*FAST_TIER, '-p', 'no:cacheprovider'])}",
            f"pytest_add_cli_args_test_selection = {toml_list(tests)}",
            # torch is imported by the tests: fork each mutant from a server that never ran them
            'process_isolation = "forkserver"',
            "",
        ]
    )


GENERATE = """
import json, os
from mutmut.__main__ import copy_also_copy_files, copy_src_dir, create_mutants, setup_source_paths
from mutmut.mutation.data import SourceFileMutationData
from mutmut.mutation.trampoline import set_mutant_under_test
from mutmut.utils.file_utils import walk_mutatable_files
set_mutant_under_test("mutant_generation")
os.makedirs("mutants", exist_ok=True)
copy_src_dir(); copy_also_copy_files(); setup_source_paths(); create_mutants(1)
names = {}
for path in walk_mutatable_files():
    data = SourceFileMutationData(path=path)
    data.load()
    names[str(path)] = sorted(data.exit_code_by_key)
print("MUTANTS " + json.dumps(names))
"""

DIFFS = """
import json, sys
from mutmut.mutation.diff_apply import get_diff_for_mutant
wanted = json.load(open(sys.argv[1]))
print("DIFFS " + json.dumps({n: get_diff_for_mutant(n, path=p) for n, p in wanted.items()}))
"""


def python_in(work: Path, code: str, *args: str, marker: str) -> dict:
    """Run ``code`` with this Python in ``work`` and read the JSON after ``marker``."""
    done = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=work, capture_output=True, text=True
    )
    for line in done.stdout.splitlines():
        if line.startswith(marker + " "):
            return json.loads(line[len(marker) + 1 :])
    raise SystemExit(f"mutmut helper failed in {work}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")


# --- sampling, running, reading the results -------------------------------------------------


def sample_names(names: list[str], size: int | None, seed: int) -> list[str]:
    """``size`` names drawn at random with ``seed`` (all of them when size is None or larger),
    sorted."""
    names = sorted(names)
    if size is None or size >= len(names):
        return names
    return sorted(random.Random(seed).sample(names, size))


def mutmut_phase(log_text: str) -> str:
    last, phase = -1, "starting"
    for name in PHASES:
        at = log_text.rfind(name)
        if at > last:
            last, phase = at, name
    return phase


def read_exit_codes(work: Path, files: list[str]) -> dict[str, int | None]:
    codes = {}
    for f in files:
        meta = work / "mutants" / (f + ".meta")
        if meta.exists():
            # a file being written is read the next time
            with contextlib.suppress(json.JSONDecodeError, KeyError):
                codes.update(json.loads(meta.read_text())["exit_code_by_key"])
    return codes


def status_of(code: int | None, cut: bool = False) -> str:
    """mutmut's status of an exit code; a mutant interrupted by --max-minutes is not checked."""
    from mutmut.stats import status_by_exit_code

    status = status_by_exit_code[code]
    return "not checked" if cut and status == "check was interrupted by user" else status


def count(statuses: list[str]) -> dict[str, int]:
    checked = [s for s in statuses if s not in IGNORED]
    return {
        "mutants": len(statuses),
        "checked": len(checked),
        "killed": sum(s in {"killed", "caught by type check"} for s in statuses),
        "timeouts": statuses.count("timeout"),
        "survived": statuses.count("survived"),
        "no_tests": statuses.count("no tests"),
        "suspicious": sum(
            s in {"suspicious", "segfault", "check was interrupted by user"} for s in statuses
        ),
        "skipped": statuses.count("skipped"),
        "not_checked": statuses.count("not checked"),
    }


def wilson(successes: int, n: int, z: float = 1.96) -> list[float] | None:
    """The 95% Wilson interval of a proportion (the sample's score as an estimate of the whole
    set's)."""
    if n == 0:
        return None
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4)]


def summarise(results: list[dict], equivalent: int = 0) -> dict:
    """Counts and scores of ``results`` (each with 'status'): the score is the share of the
    checked mutants that the tests detected (killed or timed out); ``score_without_equivalent``
    leaves out the survivors whose verdict says they are equivalent."""
    counts = count([r["status"] for r in results])
    detected = counts["killed"] + counts["timeouts"]
    n = counts["checked"]
    counts["score"] = round(detected / n, 4) if n else None
    counts["score_ci95"] = wilson(detected, n)
    counts["equivalent"] = equivalent
    counts["score_without_equivalent"] = (
        round(detected / (n - equivalent), 4) if n - equivalent > 0 else None
    )
    return counts


def seconds_by_status(results: list[dict]) -> dict:
    """How long the mutants of each status took: their number and mean seconds (from the
    intervals between results, so only meaningful with one worker)."""
    out = {}
    for status in sorted({r["status"] for r in results if r.get("seconds") is not None}):
        times = [
            r["seconds"] for r in results if r["status"] == status and r["seconds"] is not None
        ]
        out[status] = {"n": len(times), "mean_s": round(sum(times) / len(times), 1)}
    return out


# --- where a mutant is, and the survivors file ----------------------------------------------


def function_of(name: str) -> tuple[str | None, str]:
    """(class, function) of a mutmut mutant name such as ``pkg.mod.x_f__mutmut_3`` or
    ``pkg.mod.xǁCǁm__mutmut_1``."""
    mangled = name.partition("__mutmut_")[0].rpartition(".")[2]
    if mangled.startswith("xǁ"):
        _, cls, func = mangled.split("ǁ")
        return cls, func
    return None, mangled[2:]


def function_span(source: str, cls: str | None, func: str) -> tuple[int, int] | None:
    """First line (decorators included) and last line of a top-level function or method."""
    body = ast.parse(source).body
    if cls is not None:
        body = next((n.body for n in body if isinstance(n, ast.ClassDef) and n.name == cls), [])
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == func:
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            return first, node.end_lineno
    return None


def changed_line(source: str, name: str, diff: str) -> int | None:
    """The line of the source that the mutant changes: the first removed line of its diff,
    found in the function near where the hunk puts it."""
    cls, func = function_of(name)
    span = function_span(source, cls, func)
    if span is None:
        return None
    offset, removed = None, None
    for line in diff.splitlines():
        hunk = re.match(r"@@ -(\d+)", line)
        if hunk:
            offset = int(hunk.group(1))
        elif offset is not None and not line.startswith(("---", "+++")):
            if line.startswith("-"):
                removed = line[1:].strip()
                break
            if not line.startswith("+"):
                offset += 1
    if offset is None:
        return None
    guess = span[0] + offset - 1
    lines = source.splitlines()
    candidates = [
        i
        for i in range(span[0], span[1] + 1)
        if removed is not None and lines[i - 1].strip() == removed
    ]
    return min(candidates, key=lambda i: abs(i - guess)) if candidates else guess


def change_key(file: str, diff: str) -> str:
    """What identifies a mutant across reruns: its file and the lines its diff removes and adds
    (not its number, which moves when its function changes)."""
    lines = [
        ln.strip()
        for ln in diff.splitlines()
        if ln[:1] in "+-" and not ln.startswith(("---", "+++"))
    ]
    return file + "\n" + "\n".join(lines)


def read_verdicts(path: Path) -> dict[str, str]:
    """The hand-written verdicts of a survivors file, by change_key."""
    if not path.exists():
        return {}
    verdicts = {}
    for block in path.read_text(encoding="utf-8").split("\n=== ")[1:]:
        fields, diff = {}, []
        for line in block.splitlines()[1:]:
            key, _, value = line.partition(": ")
            if key in {"file", "status", "verdict"} and not diff:
                fields[key] = value
            else:
                diff.append(line)
        verdict = fields.get("verdict", UNCLASSIFIED).strip()
        if "file" in fields and verdict != UNCLASSIFIED:
            file = fields["file"].split(":")[0]
            verdicts[change_key(file, "\n".join(diff))] = verdict
    return verdicts


def verdicts_by_name(text: str) -> dict[str, str]:
    """The verdict of each block of a survivors file, by mutant name."""
    out = {}
    for block in text.split("\n=== ")[1:]:
        lines = block.splitlines()
        for line in lines[1:]:
            if line.startswith("verdict: "):
                out[lines[0].strip()] = line[len("verdict: ") :].strip()
                break
    return out


def rescore(result: dict, survivors: str) -> tuple[dict, str]:
    """``result`` (mutation.json) with the verdicts of ``survivors`` (the survivors file's
    text): each not-killed mutant's verdict, the equivalent count and the score without them,
    overall and per module; and the survivors file with its header redone."""
    verdicts = verdicts_by_name(survivors)
    for r in result["not_killed"]:
        r["verdict"] = verdicts.get(r["name"], r["verdict"])
    equivalent = [r for r in result["not_killed"] if r["verdict"].startswith("equivalent")]
    for scope, files in [(result, None), *((v, f) for f, v in result["per_module"].items())]:
        e = sum(files is None or r["file"] == files for r in equivalent)
        detected = scope["killed"] + scope["timeouts"]
        scope["equivalent"] = e
        left = scope["checked"] - e
        scope["score_without_equivalent"] = round(detected / left, 4) if left > 0 else None
    header = "\n".join(f"# {line}" if line else "#" for line in survivors_header(result))
    blocks = survivors.find("\n=== ")  # from the blank line before the first block
    return result, header + "\n" + (survivors[blocks:] if blocks >= 0 else "")


def survivors_text(header: list[str], survivors: list[dict]) -> str:
    out = [f"# {line}" if line else "#" for line in header]
    for s in survivors:
        where = f"{s['file']}:{s['line']}" if s["line"] else s["file"]
        out += [
            "",
            f"=== {s['name']}",
            f"file: {where} ({s['function']})",
            f"status: {s['status']}",
            f"verdict: {s['verdict']}",
            s["diff"].rstrip(),
        ]
    return "\n".join(out) + "\n"


# --- main -----------------------------------------------------------------------------------


def run_mutmut(
    work: Path, names: list[str], workers: int, deadline: float, progress_s: float, files: list[str]
) -> dict:
    """``mutmut run`` on ``names`` in ``work``, interrupted at ``deadline``. Returns its exit
    code, whether it was cut, the seconds from the start at which each of mutmut's phases was
    first seen, and for each mutant the seconds since the previous result (with one worker, the
    time it took)."""
    exe = Path(sys.executable).parent / "mutmut"
    command = [str(exe) if exe.exists() else "mutmut", "run", "--max-children", str(workers)]
    mutmut_log = work / "mutmut.log"
    cut = False
    wanted = set(names)
    phases: dict[str, float] = {}
    seconds: dict[str, float] = {}
    started = time.monotonic()
    last_result = None
    with open(mutmut_log, "w") as fh:
        proc = subprocess.Popen(
            [*command, *names],
            cwd=work,
            stdout=fh,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        next_report = started + progress_s
        while proc.poll() is None:
            time.sleep(1)
            now = time.monotonic()
            if now >= deadline and not cut:
                log("--max-minutes reached: interrupting mutmut")
                cut = True
                os.killpg(proc.pid, signal.SIGINT)
                try:
                    proc.wait(timeout=120)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
            phase = mutmut_phase(mutmut_log.read_text(errors="replace"))
            phases.setdefault(phase, round(now - started, 1))
            if phase == PHASES[-1]:
                last_result = last_result or now
                codes = read_exit_codes(work, files)
                for name in wanted - seconds.keys():
                    if codes.get(name) is not None:
                        seconds[name] = round(now - last_result, 1)
                        last_result = now
            if now >= next_report:
                next_report = now + progress_s
                codes = read_exit_codes(work, files)
                c = count([status_of(codes.get(n)) for n in wanted])
                log(
                    f"{phase}: {c['checked']}/{len(names)} checked, {c['killed']} killed, "
                    f"{c['timeouts']} timeouts, {c['survived'] + c['no_tests']} not killed, "
                    f"{(now - started) / 60:.1f} min"
                )
    return {"rc": proc.wait(), "cut": cut, "phases_s": phases, "seconds": seconds}


def fmt_score(summary: dict) -> str:
    if summary["score"] is None:
        return "none (no mutant checked)"
    text = f"{summary['score']:.1%} of {summary['checked']} checked mutants detected"
    if summary["score_ci95"]:
        low, high = summary["score_ci95"]
        text += f" (95% interval {low:.1%} to {high:.1%})"
    if summary["equivalent"]:
        text += f", {summary['score_without_equivalent']:.1%} without the equivalent ones"
    return text


def survivors_header(result: dict) -> list[str]:
    sample = result["sample"]
    drawn = (
        f"a sample of {sample['size']} of {result['mutants_total']} mutants (seed {sample['seed']})"
        if sample
        else f"all {result['mutants_total']} mutants"
    )
    return [
        "Mutants that no test killed (benchmarks/mutation.py; see benchmarks/README.md).",
        f"{result['tool']} {result['version']}, commit {result['commit']}, {result['date']},",
        f"{drawn}; tests ({len(result['tests'])} files, -m 'not pipeline', from the "
        f"{result['tests_from']}):",
        *(f"  {t['path']} ({t['state']})" for t in result["tests"]),
        f"Score: {fmt_score(result)}; {result['minutes']:.1f} min"
        + (
            f" (cut by --max-minutes: {result['not_checked']} mutants not reached)"
            if result["truncated"]
            else ""
        )
        + ".",
        "",
        "One block a mutant: its mutmut name, the line it changes, its status, a verdict and the",
        "diff of its function. The verdicts are written by hand after a run: 'equivalent: <why>'",
        "or 'not killed: needs a test of <what>', or 'killed by <test>' for a test written after",
        "the run (checked by hand; a rerun should confirm it); a rerun keeps the verdict of a",
        "mutant whose file and changed lines are the same ('unclassified' otherwise).",
    ]


def run_failure(rc: int, tail: str, commit: str) -> str:
    """What to say when ``mutmut run`` fails, with the end of its log; where it could not
    record which test calls what, the tests failed on the unmutated source."""
    message = f"mutmut run failed (exit {rc}):\n{tail}"
    if "failed to collect stats" in tail:
        message += (
            f"\nThe selected tests do not all pass on the unmutated source of {commit}: run them"
            " there first (with --commit, the working tree's tests may need newer code than the"
            " commit's; --tests-from head takes the commit's own)."
        )
    return message


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    if args.rescore:
        result, text = rescore(read_json(args.out), args.survivors.read_text(encoding="utf-8"))
        write_json(args.out, result)
        write_text(args.survivors, text)
        log(f"score {fmt_score(result)}; rewrote {args.out} and {args.survivors}")
        return result
    started = time.monotonic()
    deadline = started + args.max_minutes * 60
    load_before = os.getloadavg()[0]
    commit = git("rev-parse", "--verify", f"{args.commit}^{{commit}}")
    work = Path(tempfile.mkdtemp(prefix="resnet-essence-mutation-"))
    log(f"work folder {work} (commit {commit[:7]})")
    try:
        copy_tree(work, args.tests_from, commit)
        tests = args.tests or default_tests(work)
        missing = [t for t in tests if not (work / t).exists()]
        if missing:
            raise SystemExit(f"no such test file: {' '.join(missing)}")
        tests_used = describe_tests(work, tests, args.tests_from)
        modules = resolve_modules(work, args.modules)
        with open(work / "pyproject.toml", "a", encoding="utf-8") as fh:
            fh.write(mutmut_config(work, modules, tests))

        log(f"generating the mutants of {len(modules)} files")
        t0 = time.monotonic()
        by_file = python_in(work, GENERATE, marker="MUTANTS")
        generation_s = time.monotonic() - t0
        file_of = {n: f for f, names in by_file.items() for n in names}
        every = sorted(file_of)
        chosen = sample_names(every, args.sample, args.seed)
        log(
            f"{len(every)} mutants in {generation_s:.0f} s; testing {len(chosen)} "
            + (f"(a sample, seed {args.seed})" if len(chosen) < len(every) else "(all)")
            + f" with {len(tests)} test files, {args.workers} worker(s)"
        )

        t0 = time.monotonic()
        run = run_mutmut(work, chosen, args.workers, deadline, args.progress_seconds, modules)
        cut = run["cut"]
        mutmut_s = time.monotonic() - t0
        codes = read_exit_codes(work, modules)
        results = [
            {
                "name": n,
                "file": file_of[n],
                "status": status_of(codes.get(n), cut),
                "seconds": run["seconds"].get(n),
            }
            for n in chosen
        ]
        if run["rc"] != 0 and not cut:
            tail = (work / "mutmut.log").read_text(errors="replace")[-4000:]
            raise SystemExit(run_failure(run["rc"], tail, commit[:7]))

        not_killed = [r for r in results if r["status"] in NOT_DETECTED]
        wanted = {r["name"]: r["file"] for r in not_killed}
        diffs = {}
        if wanted:
            (work / "wanted.json").write_text(json.dumps(wanted))
            diffs = python_in(work, DIFFS, "wanted.json", marker="DIFFS")
        verdicts = read_verdicts(args.survivors)
        for r in not_killed:
            r["diff"] = diffs[r["name"]]
            source = (work / r["file"]).read_text(encoding="utf-8")
            r["line"] = changed_line(source, r["name"], r["diff"])
            cls, func = function_of(r["name"])
            r["function"] = f"{cls}.{func}" if cls else func
            r["verdict"] = verdicts.get(change_key(r["file"], r["diff"]), UNCLASSIFIED)
    finally:
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    equivalent = sum(r["verdict"].startswith("equivalent") for r in not_killed)
    summary = summarise(results, equivalent)
    result = {
        "benchmark": "mutation",
        "tool": "mutmut",
        "version": importlib.metadata.version("mutmut"),
        "command": "python benchmarks/mutation.py "
        + shlex.join(sys.argv[1:] if argv is None else argv),
        "commit": commit,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "modules": modules,
        "tests": tests_used,
        "tests_from": args.tests_from,
        "pytest_args": FAST_TIER,
        "mutants_total": len(every),
        "sample": ({"size": len(chosen), "seed": args.seed} if len(chosen) < len(every) else None),
        **summary,
        "truncated": cut,
        "minutes": round((time.monotonic() - started) / 60, 2),
        "generation_s": round(generation_s, 1),
        "mutmut_run_s": round(mutmut_s, 1),
        "mutmut_phases_s": run["phases_s"],
        "seconds_per_mutant": seconds_by_status(results),
        "per_module": {
            f: {
                "mutants_total": len(by_file[f]),
                **summarise([r for r in results if r["file"] == f]),
            }
            for f in modules
        },
        "not_killed": [
            {k: r[k] for k in ("name", "file", "line", "status", "verdict", "seconds")}
            for r in not_killed
        ],
        "timeouts_list": [r["name"] for r in results if r["status"] == "timeout"],
        "environment": {
            "cpus": os.cpu_count(),
            "workers": args.workers,
            "python": platform.python_version(),
            "load_before": round(load_before, 2),
            "load_after": round(os.getloadavg()[0], 2),
        },
    }
    write_json(args.out, result)
    write_text(args.survivors, survivors_text(survivors_header(result), not_killed))
    log(f"score {fmt_score(summary)}; wrote {args.out} and {args.survivors}")
    return result


if __name__ == "__main__":
    main()
