"""Mutation testing of flopcount's core modules with mutmut, one module at a time.

    pip install -e '.[dev]'   # or: pip install 'mutmut>=3.3,<4'
    python tests/mutation/run.py baseline check   # the modules named
    python tests/mutation/run.py --all            # every module in MODULES

Each module runs in a fresh copy of the repository in a temporary folder, with the
[tool.mutmut] settings of pyproject.toml, its own source files (only_mutate) and its own
tests (the test selection); mutmut then runs, for each mutant, only those of these tests
that execute the mutated function. One worker (--max-children 1): the machines this runs
on are shared. Prints per module the mutants killed, survived and equivalent-or-not, and
writes each survivor's diff to the copy's survivors.txt for tests/mutation/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# module -> (files mutated, tests that are its own)
# the renderers' tests: those that draw or assert rendered output. Chromium's screenshots, the runner's whole-network
# runs and the tests timed to seconds are left out (mutmut's trampolines make the timed ones fail; exact-text
# tests pin the same output)
RENDER_TESTS = [
    "tests/test_golden_formats.py",
    "tests/test_report_details.py",
    "tests/test_output.py",
    "tests/test_cli_analyze.py",
    "tests/test_html_report.py",
    "tests/test_check.py",
    "tests/test_check_details.py",
    "tests/test_compare.py",
    "tests/test_sweep.py",
    "tests/test_explain.py",
    "tests/test_memory.py",
    "tests/test_run_timing.py",
    *(
        f"tests/test_runner.py::test_{name}"
        for name in (
            "run_exits_1_naming_the_layer_and_both_figures",
            "run_exits_0_and_prints_the_verdict",
            "run_json",
            "analyze_verify",
            "progress_bar_only_on_a_terminal",
            "run_table_drawn_directly_equals_richs_table",
        )
    ),
    "tests/test_limits.py::test_human_and_fmt_bytes_are_exact_at_any_size",
    "tests/test_limits.py::test_fractions_beyond_a_float_are_shown_exactly",
    "-k",
    "not chromium and not large_sizes_end_within_seconds",
]
MODULES = {
    # the language's own tests (with the spec's too, each surviving mutant also ran their 240 tests: an hour on a busy machine)
    "expr": (["flopcount/expr.py"], ["tests/test_expr.py", "tests/test_expr_details.py"]),
    # the loader's own tests; test_bad_specs' CLI corpus (129 runs of analyze, for every surviving mutant) was left out
    "spec": (["flopcount/spec.py"], ["tests/test_spec.py", "tests/test_spec_details.py"]),
    # the registry and the rules every type shares; the family modules (the types themselves) are
    # checked case by case in tests/layer_cases.py and were not mutation-tested (see RESULTS.md)
    "layers": (
        ["flopcount/layers/base.py", "flopcount/layers/kinds.py", "flopcount/layers/window.py"],
        [
            "tests/test_layers.py",
            "tests/test_layers_details.py",
            "tests/test_explain.py",
            "tests/test_new_layer_type.py",
            "tests/test_schema.py",
            "tests/test_bad_specs.py",
            "tests/test_runner.py",
            "-k",
            "not bundled_spec",
        ],
    ),
    "graph": (
        ["flopcount/graph.py"],
        [
            "tests/test_layers.py",
            "tests/test_receptive_field.py",
            "tests/test_receptive_upsampling.py",
            "tests/test_reference_specs.py",
            "tests/test_bad_specs.py",
            "tests/test_transformers.py",
            "tests/test_spec.py",
            "tests/test_cli_analyze.py",
            "tests/test_conventions.py",
            "tests/test_graph_details.py",
        ],
    ),
    "baseline": (["flopcount/baseline.py"], ["tests/test_baseline.py", "tests/test_check.py"]),
    "check": (["flopcount/check.py"], ["tests/test_check.py", "tests/test_check_details.py"]),
    # the renderers, split in two so each run ends in reasonable time on a shared machine
    "render": (["flopcount/render.py", "flopcount/table.py"], RENDER_TESTS),
    "reports": (["flopcount/report.py", "flopcount/check_report.py", "flopcount/compare_report.py"], RENDER_TESTS),
}
SHOW = """
import sys
from mutmut.mutation.diff_apply import find_mutant, get_diff_for_mutant
for name in sys.argv[1:]:
    print(f"# {name}")
    print(get_diff_for_mutant(name, path=find_mutant(name).path))
"""
# mutmut forks each mutant's process from the one that ran the clean tests, so the mutated modules' caches
# (the expression parser's, by text) arrive full of unmutated results and would hide mutants of the code they
# cache: every test starts with them empty
COLD_CACHES = """

import pytest as _pytest


@_pytest.fixture(autouse=True)
def _cold_caches():
    _modules = [_sys.modules[name] for name in {modules!r} if name in _sys.modules]
    for _value in [value for module in _modules for value in vars(module).values()]:
        if callable(getattr(_value, "cache_clear", None)):
            _value.cache_clear()
"""
KILLED = {"killed", "timeout", "segfault", "caught by type check"}  # the tests noticed the mutant


def toml_list(items) -> str:
    return "[" + ", ".join(f'"{x}"' for x in items) + "]"


def workspace(module: str) -> Path:
    """A copy of the repository whose [tool.mutmut] mutates the module and selects its tests."""
    files, tests = MODULES[module]
    folder = Path(tempfile.mkdtemp(prefix=f"flopcount-mutation-{module}-"))
    for name in ("flopcount", "tests", "specs"):
        shutil.copytree(ROOT / name, folder / name, ignore=shutil.ignore_patterns("__pycache__", "mutants"))
    shutil.copy(ROOT / "README.md", folder / "README.md")  # tests read its examples
    text = (ROOT / "pyproject.toml").read_text()
    text = re.sub(r"(?m)^only_mutate = .*$", f"only_mutate = {toml_list(files)}", text)
    text = re.sub(
        r"(?m)^pytest_add_cli_args_test_selection = .*$",
        f"pytest_add_cli_args_test_selection = {toml_list(tests)}",
        text,
    )
    (folder / "pyproject.toml").write_text(text)
    # mutmut's trampolines add frames to every call: give the parser's nesting tests the headroom they have unmutated
    with open(folder / "tests" / "conftest.py", "a") as conftest:
        conftest.write("\n\nimport sys as _sys\n\n_sys.setrecursionlimit(20_000)\n")
        conftest.write(COLD_CACHES.format(modules=[f.removesuffix(".py").replace("/", ".") for f in files]))
        # mutmut's stats run marks itself in the environment, which a test's `python -m flopcount` child inherits
        # and fails on (it looks for mutmut's settings in the child's folder); mutmut keeps its own copy in-process
        conftest.write(
            "\nimport os as _os\n\n"
            "if _os.environ.get('MUTANT_UNDER_TEST') == 'stats':\n"
            "    del _os.environ['MUTANT_UNDER_TEST']\n"
        )
    return folder


def shared_folder() -> str | None:
    """The team's shared/ folder, which the reference tests read (the copy no longer sits beside it)."""
    sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
    from test_reference_specs import shared_candidates

    return next((str(p) for p in shared_candidates() if p.is_dir()), None)


def run_module(module: str) -> Counter:
    folder = workspace(module)
    env = dict(os.environ, PYTHONPATH="")
    shared = shared_folder()
    if shared:
        env["FLOPCOUNT_SHARED"] = shared
    print(f"== {module}: mutating {', '.join(MODULES[module][0])} in {folder}", flush=True)
    subprocess.run(["mutmut", "run", "--max-children", "1"], cwd=folder, env=env, check=False)
    listing = subprocess.run(
        ["mutmut", "results", "--all", "true"], cwd=folder, env=env, capture_output=True, text=True, check=True
    ).stdout
    statuses = dict(re.findall(r"^\s*(\S+__mutmut_\d+): (.+)$", listing, re.MULTILINE))
    survivors = [name for name, status in statuses.items() if status not in KILLED]
    # one process for every diff (`mutmut show` per mutant takes seconds each)
    diffs = subprocess.run(
        [sys.executable, "-c", SHOW, *survivors], cwd=folder, env=env, capture_output=True, text=True, check=True
    )
    (folder / "survivors.txt").write_text(diffs.stdout)
    counts = Counter("killed" if s in KILLED else s for s in statuses.values())
    print(f"== {module}: {len(statuses)} mutants, {dict(counts)}; survivors in {folder / 'survivors.txt'}", flush=True)
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help=", ".join(MODULES))
    parser.add_argument("--all", action="store_true", help="every module in MODULES")
    args = parser.parse_args()
    modules = sorted(MODULES) if args.all else args.modules
    unknown = [m for m in modules if m not in MODULES]
    if not modules or unknown:
        parser.error(f"name modules from: {', '.join(MODULES)} (or --all)")
    if shutil.which("mutmut") is None:
        parser.error("mutmut is not installed: pip install 'mutmut>=3.3,<4'")
    for module in modules:
        run_module(module)
    return 0


if __name__ == "__main__":
    sys.exit(main())
