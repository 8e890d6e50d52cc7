"""benchmarks/mutation.py without running mutmut: its options, its sample, its counts and score,
where it puts a mutant, and the survivors file that keeps the verdicts written by hand."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "mutation.py"


@pytest.fixture(scope="module")
def mutation():
    spec = importlib.util.spec_from_file_location("bench_mutation", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_options_and_their_defaults(mutation):
    args = mutation.parse_args([])
    assert args.modules == mutation.MODULES and args.tests is None
    assert args.sample is None and args.seed == 0 and args.workers == 1
    assert args.max_minutes == 30 and args.tests_from == "worktree"
    args = mutation.parse_args(
        ["--modules", "src/resnet_essence/stats.py", "--sample", "50", "--seed", "3"]
        + ["--max-minutes", "5", "--tests", "tests/test_stats.py", "--tests-from", "head"]
    )
    assert args.modules == ["src/resnet_essence/stats.py"] and args.tests == ["tests/test_stats.py"]
    assert (args.sample, args.seed, args.max_minutes, args.tests_from) == (50, 3, 5.0, "head")
    for bad in (["--sample", "0"], ["--workers", "0"], ["--max-minutes", "0"]):
        with pytest.raises(SystemExit):
            mutation.parse_args(bad)


def test_the_optional_tests_are_run_where_they_exist(mutation, tmp_path):
    assert mutation.default_tests(tmp_path) == mutation.TESTS
    (tmp_path / "tests").mkdir()
    (tmp_path / mutation.OPTIONAL_TESTS[0]).write_text("")
    assert mutation.default_tests(tmp_path) == mutation.TESTS + mutation.OPTIONAL_TESTS[:1]


def test_the_sample_is_seeded_and_the_whole_set_without_one(mutation):
    names = [f"pkg.mod.x_f__mutmut_{i}" for i in range(100)]
    one = mutation.sample_names(names, 10, seed=1)
    assert one == mutation.sample_names(list(reversed(names)), 10, seed=1) == sorted(one)
    assert len(set(one)) == 10 and set(one) <= set(names)
    assert one != mutation.sample_names(names, 10, seed=2)
    assert mutation.sample_names(names, None, 0) == sorted(names)
    assert mutation.sample_names(names, 500, 0) == sorted(names)


def test_the_config_section_mutates_the_modules_with_the_fast_tier(mutation, tmp_path):
    for folder in ("src", "tests", "docs"):
        (tmp_path / folder).mkdir()
    for file in ("config.yaml", "pyproject.toml"):
        (tmp_path / file).write_text("")
    text = mutation.mutmut_config(tmp_path, ["src/a.py"], ["tests/test_a.py"])
    assert "[tool.mutmut]" in text and 'only_mutate = ["src/a.py"]' in text
    assert 'also_copy = ["config.yaml", "docs"]' in text
    assert 'pytest_add_cli_args = ["-m", "not pipeline", "-p", "no:cacheprovider"]' in text
    assert 'pytest_add_cli_args_test_selection = ["tests/test_a.py"]' in text


def test_the_summary_counts_timeouts_as_killed_and_leaves_out_the_unchecked(mutation):
    statuses = ["killed"] * 7 + ["timeout", "survived", "no tests", "not checked", "skipped"]
    summary = mutation.summarise([{"status": s} for s in statuses], equivalent=1)
    assert summary["mutants"] == 12 and summary["checked"] == 10
    assert (summary["killed"], summary["timeouts"], summary["survived"]) == (7, 1, 1)
    assert (summary["no_tests"], summary["not_checked"], summary["skipped"]) == (1, 1, 1)
    assert summary["score"] == 0.8 and summary["score_without_equivalent"] == round(8 / 9, 4)
    low, high = summary["score_ci95"]
    assert 0 < low < 0.8 < high < 1
    assert mutation.summarise([])["score"] is None
    assert "80.0% of 10 checked" in mutation.fmt_score(summary)


SOURCE = """\
def f(x):
    return x + 1


class C:
    @staticmethod
    def m(y):
        a = 1
        b = 2
        return y > a
"""

DIFF_M = """\
--- src/m.py
+++ src/m.py
@@ -2,5 +2,5 @@
 def m(y):
     a = 1
     b = 2
-    return y > a
+    return y >= a"""


def test_a_mutant_is_placed_on_the_line_it_changes(mutation):
    assert mutation.function_of("pkg.m.x_f__mutmut_3") == (None, "f")
    assert mutation.function_of("pkg.m.xǁCǁm__mutmut_12") == ("C", "m")
    assert mutation.function_span(SOURCE, "C", "m") == (6, 10)
    assert mutation.changed_line(SOURCE, "pkg.m.xǁCǁm__mutmut_12", DIFF_M) == 10
    diff_f = "--- a\n+++ a\n@@ -1,2 +1,2 @@\n def f(x):\n-    return x + 1\n+    return x - 1"
    assert mutation.changed_line(SOURCE, "pkg.m.x_f__mutmut_1", diff_f) == 2
    assert mutation.changed_line(SOURCE, "pkg.m.x_gone__mutmut_1", diff_f) is None


def test_a_rerun_keeps_the_verdicts_written_by_hand(mutation, tmp_path):
    survivor = {
        "name": "pkg.m.xǁCǁm__mutmut_12",
        "file": "src/m.py",
        "line": 10,
        "function": "C.m",
        "status": "survived",
        "verdict": mutation.UNCLASSIFIED,
        "diff": DIFF_M,
    }
    path = tmp_path / "survivors.txt"
    path.write_text(mutation.survivors_text(["a header"], [survivor]))
    assert mutation.read_verdicts(path) == {}
    text = path.read_text().replace("verdict: unclassified", "verdict: equivalent: y is an int")
    path.write_text(text)
    # the same change under another number (its function moved) keeps its verdict
    key = mutation.change_key("src/m.py", DIFF_M.replace("@@ -2,5", "@@ -7,5"))
    assert mutation.read_verdicts(path) == {key: "equivalent: y is an int"}
    assert "=== pkg.m.xǁCǁm__mutmut_12\nfile: src/m.py:10 (C.m)\nstatus: survived" in text


def test_rescoring_counts_the_verdicts_written_by_hand(mutation):
    survivor = {
        "name": "pkg.m.xǁCǁm__mutmut_12",
        "file": "src/m.py",
        "line": 10,
        "function": "C.m",
        "status": "survived",
        "verdict": mutation.UNCLASSIFIED,
        "diff": DIFF_M,
    }
    counts = mutation.summarise([{"status": "killed"}] * 3 + [{"status": "survived"}])
    result = {
        **counts,
        "tool": "mutmut",
        "version": "3",
        "commit": "abc",
        "date": "today",
        "mutants_total": 10,
        "sample": {"size": 4, "seed": 0},
        "tests": [{"path": "tests/test_a.py", "state": "committed"}],
        "tests_from": "worktree",
        "minutes": 1.0,
        "truncated": False,
        "per_module": {"src/m.py": dict(counts)},
        "not_killed": [{k: survivor[k] for k in ("name", "file", "line", "status", "verdict")}],
    }
    text = mutation.survivors_text(mutation.survivors_header(result), [survivor])
    text = text.replace("verdict: unclassified", "verdict: equivalent: y is an int")
    assert mutation.verdicts_by_name(text) == {survivor["name"]: "equivalent: y is an int"}
    result, rewritten = mutation.rescore(result, text)
    assert result["equivalent"] == result["per_module"]["src/m.py"]["equivalent"] == 1
    assert result["score"] == 0.75 and result["score_without_equivalent"] == 1.0
    assert result["not_killed"][0]["verdict"] == "equivalent: y is an int"
    score = next(line for line in rewritten.splitlines() if line.startswith("# Score:"))
    assert "75.0% of 4 checked" in score and "100.0% without the equivalent ones" in score
    assert rewritten.endswith(text[text.index("\n=== ") :])


def test_a_run_whose_tests_fail_unmutated_says_so_and_how_to_go_on(mutation):
    said = mutation.run_failure(1, "...\nfailed to collect stats. runner returned 1\n", "0fc350f")
    assert said.startswith("mutmut run failed (exit 1):")
    assert "do not all pass on the unmutated source of 0fc350f" in said
    assert "--tests-from head" in said
    other = mutation.run_failure(2, "Traceback ...", "0fc350f")
    assert "unmutated" not in other and other.endswith("Traceback ...")
