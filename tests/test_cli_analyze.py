"""`flopcount analyze`: formats, grouping, exit codes and the rendered table."""

import csv
import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from flopcount import analyze
from flopcount.render import to_console
from flopcount.report import analysis_blocks

TINY = Path(__file__).parent / "data" / "tiny.json"

# tiny at 16x16: stem 3x3 s2 'same' 3 -> 8 channels on 8x8 output, two residual 3x3 convs 8 -> 8 without bias,
# a 2x2 max pool to 4x4, then dense 4*4*8 -> 10.
STEM_MACS = 8 * 8 * 8 * 3 * 3 * 3
RES_MACS = 8 * 8 * 8 * 3 * 3 * 8
FC_MACS = 4 * 4 * 8 * 10
TINY_MACS = STEM_MACS + 2 * RES_MACS + FC_MACS
TINY_TRAINABLE = (3 * 3 * 3 * 8 + 8) + 2 * (3 * 3 * 8 * 8 + 2 * 8) + (4 * 4 * 8 * 10 + 10)
TINY_NON_TRAINABLE = 2 * (2 * 8)


def render_table(graph, console, by=None, flops=False):
    to_console(analysis_blocks(graph, by, flops), console)


def rendered(graph, **kw):
    console = Console(file=io.StringIO(), width=140, color_system=None, highlight=False)
    render_table(graph, console, **kw)
    return console.file.getvalue()


def test_json_has_exact_totals(cli):
    result = cli("analyze", TINY, "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["totals"]["macs"] == TINY_MACS
    assert data["totals"]["trainable"] == TINY_TRAINABLE
    assert data["totals"]["non_trainable"] == TINY_NON_TRAINABLE
    assert data["totals"]["params"] == TINY_TRAINABLE + TINY_NON_TRAINABLE
    assert [layer["name"] for layer in data["layers"]][:3] == ["input", "stem", "stage_1/conv"]
    assert data["layers"][1]["shape"] == [8, 8, 8]
    assert sum(layer["macs"] for layer in data["layers"]) == TINY_MACS


def test_set_overrides_variables(cli):
    result = cli("analyze", TINY, "--format", "json", "--set", "resolution=32")
    data = json.loads(result.output)
    assert data["layers"][1]["shape"] == [16, 16, 8]
    assert data["variables"] == {"resolution": 32, "width": 8}


@pytest.mark.parametrize("by", [None, "type", "block"])
def test_csv_holds_only_layer_rows_and_each_column_sums_to_the_total(cli, by):
    # a total row among the layer rows made a column's sum twice the total (pandas' df.macs.sum())
    extra = ["--by", by] if by else []
    rows = list(csv.DictReader(io.StringIO(cli("analyze", TINY, "--format", "csv", *extra).output)))
    totals = json.loads(cli("analyze", TINY, "--format", "json").output)["totals"]
    assert len(rows) == (len(analyze(TINY).nodes) if not by else len({r[by] for r in rows}))
    assert "total" not in {r.get("index", r.get(by)) for r in rows}
    for column in ("params", "trainable", "non_trainable", "macs", "other_ops", "flops"):
        assert sum(int(r[column]) for r in rows) == totals[column]
    assert sum(int(r["macs"]) for r in rows) == TINY_MACS


def test_markdown_table_is_consistent(cli):
    result = cli("analyze", TINY, "--format", "markdown")
    table = [line for line in result.output.splitlines() if line.startswith("|")]
    widths = {line.count("|") for line in table[: len(analyze(TINY).nodes) + 2]}
    assert len(widths) == 1


@pytest.mark.parametrize("by, key", [("type", "conv2d"), ("block", "stage")])
def test_grouped_totals(cli, by, key):
    data = json.loads(cli("analyze", TINY, "--format", "json", "--by", by).output)
    groups = {g[by]: g for g in data["groups"]}
    expected = {"type": STEM_MACS + 2 * RES_MACS, "block": 2 * RES_MACS}[by]
    assert groups[key]["macs"] == expected
    assert sum(g["params"] for g in data["groups"]) == data["totals"]["params"]


def test_table_columns_sum_to_printed_totals():
    text = rendered(analyze(TINY))
    rows = [line.split("│")[1:-1] for line in text.splitlines() if line.startswith("│")]
    params = sum(int(r[4].strip().replace(",", "")) for r in rows)
    macs = sum(int(r[5].strip().replace(",", "")) for r in rows)
    assert f"{params:,}" in text.split("Total params")[1].splitlines()[0]
    assert f"{macs:,}" in text.split("MACs")[-1].splitlines()[0]
    assert macs == TINY_MACS


def test_golden_table(golden):
    golden("tiny_table.txt", rendered(analyze(TINY)))


def test_golden_table_by_type_with_flops(golden):
    golden("tiny_by_type_flops.txt", rendered(analyze(TINY), by="type", flops=True))


def test_flops_is_twice_macs_plus_other_ops(cli):
    data = json.loads(cli("analyze", TINY, "--format", "json").output)
    totals = data["totals"]
    assert totals["flops"] == 2 * totals["macs"] + totals["other_ops"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("{not json", "invalid JSON at line 1, column 2"),
        (
            '{"name": "x", "input": [4, 4, 1], "layers": [{"type": "conv2d", "filters": 2, "kernel": 3, "strides": 2}]}',
            "layer 1 'conv2d_1': attribute 'strides': unknown attribute for conv2d. Did you mean 'stride'?",
        ),
        ("[1, 2]", "a spec must be a JSON object, not a list."),
    ],
)
def test_bad_spec_exits_2_with_one_message(cli, write_spec, text, message):
    path = write_spec(text)
    result = cli("analyze", path)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert result.output.count("\n") == 1


def test_invalid_bytes(cli, tmp_path):
    path = tmp_path / "bin.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    result = cli("analyze", path)
    assert result.exit_code == 2
    assert "is not UTF-8 text" in result.output


def test_python_dash_m(tmp_path):
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "flopcount", "analyze", str(TINY), "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout)["totals"]["macs"] == TINY_MACS


def test_analyze_does_not_import_numpy():
    import subprocess
    import sys

    code = (
        "import sys; from flopcount.cli import main; "
        f"main(['analyze', {str(TINY)!r}, '--format', 'json'], standalone_mode=False); "
        "print('numpy' in sys.modules, file=sys.stderr)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stderr.strip() == "False"


def test_names_with_brackets_are_printed_verbatim(write_spec):
    spec = {"name": "net [v2]", "input": [4], "layers": [{"type": "dense", "units": 2, "name": "fc[0]"}]}
    text = rendered(analyze(write_spec(spec)))
    assert "fc[0]" in text and "net [v2]" in text


@pytest.mark.parametrize("by, flops", [(None, False), ("type", True)])
def test_direct_drawing_equals_richs_table(by, flops):
    graph = analyze(TINY)
    terminal = Console(file=io.StringIO(), width=140, color_system=None, highlight=False, force_terminal=True)
    render_table(graph, terminal, by=by, flops=flops)  # a terminal gets rich's own layout
    assert terminal.file.getvalue() == rendered(graph, by=by, flops=flops)


@pytest.mark.parametrize("command", [["analyze"], ["run", "--quiet"], ["compare", "SELF", "--no-run"], ["check"]])
def test_names_that_look_like_markup_are_printed_verbatim(cli, write_spec, command):
    path = write_spec(
        {"name": "n[/x] [red]z", "input": [4], "layers": [{"type": "dense", "units": 2, "name": "fc[b]"}]},
        name="m[x].json",
    )
    args = [str(path) if a == "SELF" else a for a in command]
    result = cli(*args[:1], path, *args[1:])
    assert result.exit_code in (0, 1)
    assert "n[/x] [red]z" in result.output or "m[x].json" in result.output
