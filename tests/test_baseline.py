"""Baseline files: their exact text, every way a file can be unusable, where the atomic write puts its temporary,
and the file under stress: concurrent updates, symbolic links, empty files, baselines beside specs, exact keys."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flopcount.baseline import BaselineError, dump_baseline, read_baseline, update_baseline, write_baseline
from flopcount.check import run_check, show_value

ROOT = Path(__file__).parent.parent

ENTRY = {
    "name": "tiny",
    "variables": {"width": 3, "alpha": 1},
    "totals": {"params": 15, "trainable": 15, "non_trainable": 0, "macs": 12},
    "layers": [
        {"name": "input", "type": "input", "shape": [4], "params": 0, "macs": 0},
        {"type": "dense", "name": "fc", "shape": [3], "params": 15, "macs": 12},
    ],
}

# the same spec at width 2: dense 4 -> 2
ENTRY_2 = {
    "name": "tiny",
    "variables": {"width": 2, "alpha": 1},
    "totals": {"params": 4 * 2 + 2, "trainable": 4 * 2 + 2, "non_trainable": 0, "macs": 4 * 2},
    "layers": [ENTRY["layers"][0], {"type": "dense", "name": "fc", "shape": [2], "params": 4 * 2 + 2, "macs": 4 * 2}],
}

# keys sorted everywhere, one block per spec, one line per layer, a blank line between blocks
TEXT = """{
  "flopcount_baseline": 1,
  "specs": {
    "a.json": {
      "layers": [
        {"macs": 0, "name": "input", "params": 0, "shape": [4], "type": "input"},
        {"macs": 12, "name": "fc", "params": 15, "shape": [3], "type": "dense"}
      ],
      "name": "tiny",
      "totals": {"macs": 12, "non_trainable": 0, "params": 15, "trainable": 15},
      "variables": {"alpha": 1, "width": 3}
    },

    "a.json [width=2]": {
      "layers": [
        {"macs": 0, "name": "input", "params": 0, "shape": [4], "type": "input"},
        {"macs": 8, "name": "fc", "params": 10, "shape": [2], "type": "dense"}
      ],
      "name": "tiny",
      "totals": {"macs": 8, "non_trainable": 0, "params": 10, "trainable": 10},
      "variables": {"alpha": 1, "width": 2}
    }
  }
}
"""


def test_baseline_text_is_sorted_and_one_line_per_layer():
    assert dump_baseline({"a.json [width=2]": ENTRY_2, "a.json": ENTRY}) == TEXT


def test_an_empty_baseline_has_an_empty_specs_object():
    assert dump_baseline({}) == '{\n  "flopcount_baseline": 1,\n  "specs": {}\n}\n'


def test_written_baseline_reads_back(tmp_path):
    path = tmp_path / "base.json"
    write_baseline(path, {"a.json": ENTRY})
    assert path.read_text() == dump_baseline({"a.json": ENTRY})
    assert read_baseline(path) == {"a.json": json.loads(json.dumps(ENTRY))}


def test_zero_figures_and_a_byte_order_mark_are_fine(tmp_path):
    path = tmp_path / "base.json"
    zero = {**ENTRY, "totals": {"params": 0, "macs": 0}, "layers": [ENTRY["layers"][0]]}
    path.write_text("\ufeff" + dump_baseline({"a.json": zero}), encoding="utf-8")
    assert read_baseline(path)["a.json"]["totals"] == {"params": 0, "macs": 0}


def baseline_with(entry) -> str:
    return json.dumps({"flopcount_baseline": 1, "specs": {"spec.json": entry}})


LAYER = {"name": "a", "type": "dense", "shape": [3], "params": 0, "macs": 0}
LAYER_WHAT = 'must be an object {"name", "type", "shape", "params", "macs"} of exact integers.'


@pytest.mark.parametrize(
    "text, line",
    [
        (None, "cannot read the baseline: No such file or directory. Create it with --update."),
        (" \n", "the baseline is empty; write it with --update."),
        (b"\xff{}", "the baseline is not UTF-8 text (byte 0)."),
        ("{", "invalid JSON at line 1, column 2: Expecting property name enclosed in double quotes."),
        (
            "[]",
            'not a flopcount baseline: expected {"flopcount_baseline": 1, "specs": {...}} as written by flopcount check --update.',
        ),
        (
            '{"flopcount_baseline": 2, "specs": {}}',
            'not a flopcount baseline: expected {"flopcount_baseline": 1, "specs": {...}} as written by flopcount check --update.',
        ),
        (
            '{"flopcount_baseline": 1, "specs": []}',
            'not a flopcount baseline: expected {"flopcount_baseline": 1, "specs": {...}} as written by flopcount check --update.',
        ),
        (
            '{"flopcount_baseline": 1}',
            'not a flopcount baseline: expected {"flopcount_baseline": 1, "specs": {...}} as written by flopcount check --update.',
        ),
        (
            baseline_with(3),
            "attribute 'specs.spec.json': must be an object with 'name', 'totals' and 'layers'. Received: specs.spec.json=3",
        ),
        (
            baseline_with({"name": 5, "totals": {}, "layers": []}),
            "attribute 'specs.spec.json.name': must be a string. Received: specs.spec.json.name=5",
        ),
        (
            baseline_with({"totals": {}, "layers": []}),
            "attribute 'specs.spec.json.name': must be a string. Received: specs.spec.json.name=null",
        ),
        (
            baseline_with({"name": "x", "variables": [], "totals": {}, "layers": []}),
            "attribute 'specs.spec.json.variables': must be an object. Received: specs.spec.json.variables=[]",
        ),
        (
            baseline_with({"name": "x", "totals": {"flops": 1}, "layers": []}),
            "attribute 'specs.spec.json.totals': must be an object of exact integers keyed by params, trainable, non_trainable, macs. "
            'Received: specs.spec.json.totals={"flops": 1}',
        ),
        (
            baseline_with({"name": "x", "totals": {"macs": -1}, "layers": []}),
            "attribute 'specs.spec.json.totals': must be an object of exact integers keyed by params, trainable, non_trainable, macs. "
            'Received: specs.spec.json.totals={"macs": -1}',
        ),
        (
            baseline_with({"name": "x", "totals": {"macs": True}, "layers": []}),
            "attribute 'specs.spec.json.totals': must be an object of exact integers keyed by params, trainable, non_trainable, macs. "
            'Received: specs.spec.json.totals={"macs": true}',
        ),
        (
            baseline_with({"name": "x", "layers": []}),
            "attribute 'specs.spec.json.totals': must be an object of exact integers keyed by params, trainable, non_trainable, macs. "
            "Received: specs.spec.json.totals=null",
        ),
        (
            baseline_with({"name": "x", "totals": {}, "layers": {}}),
            "attribute 'specs.spec.json.layers': must be a list of layers. Received: specs.spec.json.layers={}",
        ),
        (
            baseline_with({"name": "x", "totals": {}}),
            "attribute 'specs.spec.json.layers': must be a list of layers. Received: specs.spec.json.layers=null",
        ),
    ],
    ids=[
        "missing",
        "empty",
        "not-utf8",
        "bad-json",
        "a-list",
        "another-format",
        "specs-a-list",
        "no-specs",
        "entry-a-number",
        "name-a-number",
        "name-missing",
        "variables-a-list",
        "unknown-total",
        "negative-total",
        "boolean-total",
        "totals-missing",
        "layers-an-object",
        "layers-missing",
    ],
)
def test_unusable_baseline_is_one_exact_line(cli, tmp_path, monkeypatch, text, line):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "spec.json").write_text(
        json.dumps({"name": "t", "input": [4], "layers": [{"type": "dense", "units": 3}]})
    )
    if text is not None:
        (tmp_path / "base.json").write_bytes(text if isinstance(text, bytes) else text.encode())
    result = cli("check", "spec.json", "--baseline", "base.json")
    assert (result.exit_code, result.output) == (2, f"Error: base.json: {line}\n")


@pytest.mark.parametrize(
    "change",
    [
        {"name": 1},
        {"name": None},
        {"type": 1},
        {"shape": 3},
        {"shape": [3, -1]},
        {"shape": [True]},
        {"params": -1},
        {"params": 1.5},
        {"params": None},
        {"macs": -1},
        {"macs": False},
        {"macs": None},
    ],
    ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()),
)
def test_every_layer_field_is_checked(tmp_path, change):
    layer = {k: v for k, v in {**LAYER, **change}.items() if v is not None}
    path = tmp_path / "base.json"
    path.write_text(baseline_with({"name": "x", "totals": {}, "layers": [LAYER, layer]}))
    with pytest.raises(BaselineError) as err:
        read_baseline(path)
    assert (err.value.attribute, err.value.message) == ("specs.spec.json.layers[1]", LAYER_WHAT)
    assert err.value.received == layer


def test_the_temporary_is_a_hidden_file_beside_the_baseline(tmp_path, monkeypatch):
    # os.replace is atomic only within one file system: the temporary must sit in the baseline's folder
    moves = []
    replace = os.replace
    monkeypatch.setattr(os, "replace", lambda src, dst: (moves.append((src, dst)), replace(src, dst)))
    monkeypatch.chdir(tmp_path)
    write_baseline("base.json", {})
    ((src, dst),) = moves
    assert os.path.dirname(os.path.abspath(src)) == str(tmp_path) and os.path.basename(dst) == "base.json"
    assert os.path.basename(src).startswith(".base.json.") and src.endswith(".tmp")
    assert sorted(os.listdir(tmp_path)) == ["base.json"]
    assert (tmp_path / "base.json").stat().st_mode & 0o777 == 0o644


def test_a_baseline_that_cannot_be_written_is_one_line(cli, tmp_path):
    folder = tmp_path / "missing-folder"
    (tmp_path / "spec.json").write_text(
        json.dumps({"name": "t", "input": [4], "layers": [{"type": "dense", "units": 3}]})
    )
    result = cli("check", tmp_path / "spec.json", "--baseline", folder / "base.json", "--update")
    assert (result.exit_code, result.output) == (
        2,
        f"Error: {folder / 'base.json'}: cannot write the baseline: No such file or directory.\n",
    )


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: None, "cannot read the baseline: No such file or directory. Create it with update."),
        (lambda p: p.mkdir(), "the baseline is a directory, not a regular file."),  # no advice to create what exists
        (lambda p: p.write_text(""), "the baseline is empty; write it with update."),
        (
            lambda p: p.write_text("{}"),
            'not a flopcount baseline: expected {"flopcount_baseline": 1, "specs": {...}} as written by flopcount check update.',
        ),
    ],
    ids=["missing", "a-folder", "empty", "not-a-baseline"],
)
def test_read_errors_are_about_the_baseline_option(tmp_path, make, message):
    # the library names the option (the command line spells it --baseline, --update)
    path = tmp_path / "base.json"
    make(path)
    with pytest.raises(BaselineError) as err:
        read_baseline(path)
    assert (err.value.option, err.value.file, err.value.message) == ("baseline", str(path), message)


def test_the_temporary_sits_beside_a_baseline_in_another_folder(tmp_path, monkeypatch):
    moves = []
    replace = os.replace
    monkeypatch.setattr(os, "replace", lambda src, dst: (moves.append(src), replace(src, dst)))
    (tmp_path / "ci").mkdir()
    monkeypatch.chdir(tmp_path)
    write_baseline(tmp_path / "ci" / "base.json", {})
    assert [os.path.dirname(os.path.abspath(src)) for src in moves] == [str(tmp_path / "ci")]


# ---------------------------------------------------------------- under stress


def dense_spec(units: int, name: str = "net") -> dict:
    # params 4 * units + units, MACs 4 * units
    return {
        "name": name,
        "input": [4],
        "layers": [{"name": "fc", "type": "dense", "units": units}],
        "expect": {"params": 5 * units, "macs": 4 * units},
    }


def flopcount(*args, cwd):
    """Start `python -m flopcount args` as its own process (this worktree's package)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "-m", "flopcount", *map(str, args)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_concurrent_updates_of_one_baseline_keep_every_entry(tmp_path):
    """Six processes update one baseline at once, each with its own spec: all six entries stay.

    Without the lock each process wrote the entries it read at its start plus its own: most
    runs lost some of the others'.
    """
    names = [f"s{k}.json" for k in range(6)]
    for k, name in enumerate(names):
        (tmp_path / name).write_text(json.dumps(dense_spec(k + 1)))
    for _ in range(2):  # two rounds: the second rewrites every entry concurrently
        procs = [flopcount("check", name, "--baseline", "base.json", "--update", cwd=tmp_path) for name in names]
        results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
        assert [code for code, _ in results] == [0] * 6, results
        specs = read_baseline(tmp_path / "base.json")
        assert sorted(specs) == sorted(names)
        assert [specs[n]["totals"]["params"] for n in names] == [5 * (k + 1) for k in range(6)]
    assert sorted(os.listdir(tmp_path)) == sorted(names + ["base.json"])  # no lock or temporary file left


def test_update_through_a_symbolic_link_rewrites_its_target(cli, write_spec, tmp_path):
    spec = write_spec(dense_spec(3))
    target = tmp_path / "store" / "real.json"
    target.parent.mkdir()
    target.write_text(dump_baseline({}))
    link = tmp_path / "base.json"
    link.symlink_to(target)
    assert cli("check", spec, "--baseline", link, "--update").exit_code == 0
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert list(read_baseline(target)) == ["spec.json"]  # keyed relative to the link's folder, as named
    assert cli("check", spec, "--baseline", link).exit_code == 0


def test_a_dangling_link_is_created_through(write_spec, tmp_path):
    link = tmp_path / "base.json"
    link.symlink_to(tmp_path / "made.json")
    run_check([write_spec(dense_spec(2))], baseline=link, update=True)
    assert link.is_symlink() and list(read_baseline(tmp_path / "made.json")) == ["spec.json"]


def test_an_empty_baseline_takes_an_update(cli, write_spec, tmp_path):
    spec = write_spec(dense_spec(2))
    baseline = tmp_path / "base.json"
    baseline.write_text("")
    result = cli("check", spec, "--baseline", baseline)
    assert result.exit_code == 2 and "the baseline is empty; write it with --update." in result.output
    assert cli("check", spec, "--baseline", baseline, "--update").exit_code == 0
    assert list(read_baseline(baseline)) == ["spec.json"]


def test_a_baseline_beside_the_specs_is_not_checked_as_a_spec(cli, tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    for k in (1, 2):
        (models / f"m{k}.json").write_text(json.dumps(dense_spec(k)))
    baseline = models / "flopcount-baseline.json"
    assert cli("check", models, "--baseline", baseline, "--update").exit_code == 0
    # the same baseline, under another name so --baseline does not exclude it by its path
    (models / "copy-of-baseline.json").write_text(baseline.read_text())
    for args in ([models], [f"{models}/*.json"]):
        result = cli("check", *args, "--format", "json")
        assert result.exit_code == 0, result.output
        assert [c["spec"].rsplit("/", 1)[-1] for c in json.loads(result.output)["checks"]] == ["m1.json", "m2.json"]
    named = cli("check", baseline)
    assert named.exit_code == 2
    assert named.output == f"Error: {baseline}: this is a flopcount baseline, not a spec; give it with --baseline.\n"


def test_settings_that_differ_have_different_keys(cli, write_spec, tmp_path):
    # floor(12 * 1/3) = 4 units, floor(12 * 0.3333333333333333) = 3: two models, two entries
    spec = write_spec(
        {
            "name": "f",
            "input": [4],
            "variables": {"alpha": 1, "width": "floor(12 * alpha)"},
            "layers": [{"name": "fc", "type": "dense", "units": "width"}],
        }
    )
    baseline = tmp_path / "base.json"
    for value in ("1/3", "0.3333333333333333"):
        assert cli("check", spec, "--baseline", baseline, "--update", "--set", f"alpha={value}").exit_code == 0
    specs = read_baseline(baseline)
    assert sorted(specs) == ["spec.json [alpha=0.3333333333333333]", "spec.json [alpha=1/3]"]
    assert specs["spec.json [alpha=1/3]"]["totals"]["params"] == 4 * 4 + 4
    assert specs["spec.json [alpha=0.3333333333333333]"]["totals"]["params"] == 4 * 3 + 3
    for value in ("1/3", "0.3333333333333333"):
        assert cli("check", spec, "--baseline", baseline, "--set", f"alpha={value}").exit_code == 0


@pytest.mark.parametrize(
    "value, text",
    [
        ("3/4", "0.75"),
        ("1/3", "1/3"),
        ("-5/2", "-2.5"),
        ("7", "7"),
        ("1/1048576", "0.00000095367431640625"),
        ("10**400 / 3", "1" + "0" * 400 + "/3"),
        ("10**400 / 8", "125" + "0" * 397),
    ],
)
def test_a_setting_is_shown_exactly_at_any_size(value, text):
    """A value beyond a float's range used to raise OverflowError in the setting's label."""
    from flopcount.expr import evaluate

    assert show_value(evaluate(value, {})) == text


def test_a_huge_setting_labels_every_format(cli, write_spec):
    spec = write_spec(
        {
            "name": "x",
            "input": [4],
            "variables": {"a": 1},
            "layers": [{"type": "dense", "units": 3}],
            "expect": [{"set": {"a": "10**400/3"}, "params": 15}],
        }
    )
    for fmt in ("table", "json", "markdown", "junit"):
        result = cli("check", spec, "--format", fmt)
        assert result.exit_code == 0, result.output
        assert "0" * 400 + "/3" in result.output


def test_update_baseline_merges_into_what_is_on_disk_now(tmp_path):
    path = tmp_path / "base.json"
    entry = {"name": "n", "variables": {}, "totals": {"params": 1}, "layers": []}
    update_baseline(path, {"a.json": entry})
    update_baseline(path, {"b.json": entry})
    assert sorted(read_baseline(path)) == ["a.json", "b.json"]


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts descriptors in /proc")
def test_a_baseline_that_cannot_be_locked_is_one_line_and_its_descriptor_closed(tmp_path, monkeypatch):
    import errno
    import fcntl

    def refuse(fd, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", refuse)
    path = tmp_path / "base.json"
    before = open_descriptors()
    with pytest.raises(BaselineError) as caught:
        update_baseline(path, {"a.json": ENTRY})
    assert str(caught.value) == f"{path}: cannot lock the baseline: No locks available."
    assert open_descriptors() == before


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts descriptors in /proc")
def test_a_baseline_replaced_while_waiting_for_the_lock_is_opened_and_locked_again(tmp_path, monkeypatch):
    """What was locked is not what the path names (another update renamed its file into place): open again."""
    same, calls = os.path.samestat, []

    def samestat(a, b):  # the first descriptor locked a file since replaced
        calls.append(a)
        return len(calls) > 1 and same(a, b)

    monkeypatch.setattr(os.path, "samestat", samestat)
    path = tmp_path / "base.json"
    before = open_descriptors()
    update_baseline(path, {"a.json": ENTRY})
    assert list(read_baseline(path)) == ["a.json"] and len(calls) == 2
    assert open_descriptors() == before  # the stale descriptor was closed, and the locked one after the write


def test_a_baseline_name_the_system_refuses_is_one_line(tmp_path):
    path = tmp_path / ("b" * 300)
    with pytest.raises(BaselineError) as caught:
        read_baseline(path)
    assert str(caught.value) == f"{path}: cannot read the baseline: the file name is too long for the file system."


def test_an_update_names_the_baseline_as_given_in_every_error(tmp_path, monkeypatch):
    """Updates work on the path with links resolved; their errors name the file as the user wrote it."""
    import errno
    import tempfile

    monkeypatch.chdir(tmp_path)
    (tmp_path / "base.json").write_text("[1")
    with pytest.raises(BaselineError) as caught:
        update_baseline("base.json", {"a.json": ENTRY})
    assert str(caught.value) == "base.json: invalid JSON at line 1, column 3: Expecting ',' delimiter."

    (tmp_path / "base.json").write_text(dump_baseline({}))

    def fail(*args, **kw):
        raise OSError(errno.EIO, "Input/output error")

    with monkeypatch.context() as m:
        m.setattr(os, "lseek", fail)  # reading the locked file
        with pytest.raises(BaselineError) as caught:
            update_baseline("base.json", {"a.json": ENTRY})
    assert str(caught.value) == "base.json: cannot read the baseline: Input/output error."

    def full(*args, **kw):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tempfile, "mkstemp", full)  # writing its replacement
    with pytest.raises(BaselineError) as caught:
        update_baseline("base.json", {"a.json": ENTRY})
    assert str(caught.value) == "base.json: cannot write the baseline: No space left on device."
    with pytest.raises(BaselineError) as caught:
        write_baseline(tmp_path / "other.json", {})  # a write on its own names the path it writes
    assert str(caught.value) == f"{tmp_path / 'other.json'}: cannot write the baseline: No space left on device."
    assert read_baseline("base.json") == {}  # the old baseline stands


def test_an_update_of_a_file_that_is_no_baseline_is_about_the_baseline_option(tmp_path):
    path = tmp_path / "base.json"
    path.write_text("{}")
    with pytest.raises(BaselineError) as caught:
        update_baseline(path, {"a.json": ENTRY})
    assert caught.value.option == "baseline"
    assert str(caught.value) == (
        f'{path}: not a flopcount baseline: expected {{"flopcount_baseline": 1, "specs": {{...}}}} '
        "as written by flopcount check update."
    )
