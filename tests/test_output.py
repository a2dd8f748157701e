"""Every output format holds any name, fits any terminal, and survives any output stream.

Names are user text (spec, layer and file names), so random names go through every format of
every command and each output is read back with its standard parser: CSV with `csv`, Markdown
by its table syntax, JUnit with `xml.etree`, JSON with `json`; tables for people must hold no
control character. Streams: a non-UTF-8 encoding, a full disk, a closed pipe.
"""

import csv
import io
import json
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console

from flopcount import analyze, render, report
from flopcount.render import visible
from flopcount.table import NUMBER, TEXT, Column, Line, Table

EXAMPLES = int(os.environ.get("FLOPCOUNT_FUZZ_EXAMPLES", "150"))
NAMES = settings(
    max_examples=max(EXAMPLES // 6, 20), deadline=None, suppress_health_check=list(HealthCheck), database=None
)
TINY = Path(__file__).parent / "data" / "tiny.json"

# characters that have broken or could break an output: controls, a lone surrogate, bidi overrides,
# line and paragraph separators, CSV, Markdown and XML syntax, formula starts, wide and combining characters
HOSTILE = [
    "\x00",
    "\x07",
    "\x1b",
    "\x1b[31m",
    "\x7f",
    "\x85",
    "\r",
    "\n",
    "\r\n",
    "\t",
    "\ud800",
    "\udcff",
    "\u202e",
    "\u2028",
    "\ufeff",
    "|",
    "\\",
    '"',
    "'",
    ",",
    "=",
    "+",
    "-",
    "@",
    "&",
    "<",
    ">",
    "[",
    "]",
    "`",
    "#",
    "*",
    "_",
    "中",
    "é",
    "e\u0301",
    "✓",
    "┃",
    "&amp;",
    "]]>",
    "<!--",
    '=HYPERLINK("x")',
    "[red]",
]
# a name as a JSON file holds it: a high surrogate then a low one is one character there ("\ud800\udcff" is U+100FF)
name_text = (
    st.lists(st.one_of(st.sampled_from(HOSTILE), st.characters()), min_size=1, max_size=12)
    .map("".join)
    .map(lambda n: json.loads(json.dumps(n)))
)
layer_names = st.lists(name_text.filter(lambda n: "/" not in n), min_size=1, max_size=3, unique=True)
# file names: no '/', no NUL, and only the surrogates a file system's bytes can produce (surrogateescape)
file_names = name_text.map(
    lambda n: "".join(
        c for c in n if c not in "/\x00" and (not 0xD800 <= ord(c) <= 0xDFFF or 0xDC80 <= ord(c) <= 0xDCFF)
    )[:24]
)


def spec(name, layers, **extra):
    return {
        "name": name,
        "input": [4],
        "layers": [{"type": "dense", "units": 2 + i, "name": n} for i, n in enumerate(layers)],
        **extra,
    }


def write(folder, file_name, doc):
    path = Path(folder) / ((file_name or "x") + ".json")
    path.write_text(json.dumps(doc))
    return path


def csv_cell(name):
    """What CSV must hold for a name: the name with tabs and line breaks, other controls escaped, a formula start behind a quote."""
    text = "".join(c if c in "\t\r\n" else visible(c) for c in name)
    return "'" + text if text.startswith(("=", "+", "-", "@", "\t", "\r")) else text


def markdown_rows(text):
    """Each block of '|' lines, split into cells as GitHub does: a backslash escapes the next character."""
    tables, current = [], []
    for line in text.split("\n") + [""]:
        if not line.startswith("|"):
            if current:
                tables.append(current)
            current = []
            continue
        cells, cell, i = [], "", 1
        while i < len(line):
            if line[i] == "\\" and i + 1 < len(line):
                cell += line[i : i + 2]
                i += 2
                continue
            if line[i] == "|":
                cells.append(cell)
                cell = ""
            else:
                cell += line[i]
            i += 1
        assert cell == "", line  # every row ends with its closing pipe
        current.append(cells)
    return tables


def assert_markdown_whole(text, rows_per_table):
    """Right column count on every row, rows as many as expected, and no line a name turned into a heading."""
    tables = markdown_rows(text)
    assert [len(t) - 2 for t in tables] == rows_per_table
    for table in tables:
        assert {len(row) for row in table} == {len(table[0])}
    for line in text.split("\n"):
        if line and not line.startswith(("|", "### ", "#### ")):
            assert not line.lstrip().startswith(("#", ">", "-", "+", "*", "=")), line


def assert_printable(text):
    """Text for people: no control character, no lone surrogate, no bidi override; lines only."""
    text.encode("utf-8")  # a lone surrogate cannot be written
    for line in text.split("\n"):
        assert line.isprintable(), ascii(line)


def assert_boxes_aligned(text):
    """Within each drawn table every line has the same width on screen."""
    widths = []
    for line in text.split("\n"):
        if line and line[0] in "┏┃┡│└":
            widths.append(cell_len(line))
        elif widths:
            assert len(set(widths)) == 1, text
            widths = []
    assert len(set(widths)) <= 1


@pytest.fixture(scope="module")
def folder():
    with tempfile.TemporaryDirectory() as path:
        yield path


@NAMES
@given(title=name_text, layers=layer_names, file_name=file_names)
@example(
    title="n\U000100ff", layers=["fc\U000100ff"], file_name="f"
)  # written as a surrogate pair, read as one character
def test_analyze_holds_any_name_in_every_format(cli, folder, title, layers, file_name):
    path = write(folder, file_name, spec(title, layers))
    graph = analyze(path)
    names = [n.name for n in graph.nodes]

    table = cli("analyze", path, "--flops")
    assert table.exit_code == 0
    assert_printable(table.output)
    assert_boxes_aligned(table.output)
    for name in names:
        assert visible(name) in table.output

    # stdout_bytes: click's result.output turns a name's CR LF into LF
    rows = list(csv.reader(io.StringIO(cli("analyze", path, "--format", "csv").stdout_bytes.decode(), newline="")))
    assert len(rows) == 1 + len(names) and {len(r) for r in rows} == {15}
    assert [r[1] for r in rows[1:]] == [csv_cell(n) for n in names]
    assert sum(int(r[7]) for r in rows[1:]) == graph.totals.macs

    assert_markdown_whole(cli("analyze", path, "--format", "markdown").output, [len(names), 8])

    data = json.loads(cli("analyze", path, "--format", "json").output)
    assert data["name"] == title and [x["name"] for x in data["layers"]] == names


@NAMES
@given(title=name_text, layers=layer_names, width=st.integers(10, 200))
def test_terminal_tables_never_cut_a_number(write_spec, title, layers, width):
    graph = analyze(write_spec(spec(title, layers)))
    console = Console(file=io.StringIO(), width=width, force_terminal=True, color_system=None)
    render.to_console(report.analysis_blocks(graph, flops=True), console)
    text = console.file.getvalue()
    assert_printable(text)
    for n in graph.nodes:
        assert f"{2 * n.macs + n.other_ops:,}" in text and f"{n.params:,}" in text


@settings(max_examples=max(EXAMPLES // 15, 10), deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(title=name_text, layers=layer_names)
@example(title="n\U000100ff", layers=["fc\U000100ff"])
def test_run_holds_any_name(cli, folder, title, layers):
    path = write(folder, "run", spec(title, layers))
    table = cli("run", path, "--quiet")
    assert table.exit_code == 0
    assert_printable(table.output)
    assert_boxes_aligned(table.output)
    data = json.loads(cli("run", path, "--quiet", "--format", "json").output)
    assert data["name"] == title and [x["name"] for x in data["layers"]][1:] == layers


@NAMES
@given(layers=layer_names, missing=name_text, file_name=file_names, bare_name=file_names)
@example(layers=["fc\U000100ff"], missing="m\U000100ff", file_name="f", bare_name="g")
def test_check_holds_any_name_in_every_format(cli, folder, layers, missing, file_name, bare_name):
    expect = {"params": 1, "layers": {**{n: {"macs": 0} for n in layers}, missing: {"macs": 1}}}
    drifting = write(folder, file_name, spec("net", layers, expect=expect))
    bare = write(folder, "~" + bare_name, spec("bare", layers))  # nothing to compare: a note naming the file
    cwd = os.getcwd()
    os.chdir(folder)  # relative paths, so a label can start with any character
    try:
        names = ["--", drifting.name, bare.name]  # a file name may start with '-'
        drifts = 1 + len(layers) + (missing not in layers)
        table = cli("check", *names)
        assert table.exit_code == 1
        assert_printable(table.output)
        assert_boxes_aligned(table.output)

        assert_markdown_whole(cli("check", "--format", "markdown", *names).output, [2, drifts])

        root = ET.fromstring(cli("check", "--format", "junit", *names).output)
        cases = root.find("testsuite").findall("testcase")
        assert [c.get("name") for c in cases] == [visible(drifting.name), visible(bare.name)]
        assert all(c.find("failure") is not None for c in cases)

        data = json.loads(cli("check", "--format", "json", *names).output)
        assert [c["spec"] for c in data["checks"]] == [drifting.name, bare.name]
        assert {d["name"] for d in data["checks"][0]["drift"]} == {None, *layers, missing}
    finally:
        os.chdir(cwd)


@NAMES
@given(a=name_text, b=name_text, layers=layer_names, file_name=file_names)
@example(a="a\U000100ff", b="b", layers=["fc\U000100ff"], file_name="f")
def test_compare_holds_any_name(cli, folder, a, b, layers, file_name):
    path_a = write(folder, "a" + file_name, spec(a, layers))
    path_b = write(folder, "b" + file_name, spec(b, layers[::-1]))
    table = cli("compare", "--no-run", "--", path_a, path_b)
    assert table.exit_code in (0, 1)
    assert_printable(table.output)
    assert_boxes_aligned(table.output)
    for name in layers:
        assert visible(name) in table.output
    data = json.loads(cli("compare", "--no-run", "--format", "json", "--", path_a, path_b).output)
    assert (data["a"]["name"], data["b"]["name"]) == (str(path_a), str(path_b))


# ---------------------------------------------------------------- each escape, by example


def test_control_characters_and_surrogates_are_shown_escaped():
    assert visible("fc\x1b[31m\r\n\t\ud800\u202e|é中") == "fc\\x1b[31m\\r\\n\\t\\ud800\\u202e|é中"
    assert visible("plain name [x]") == "plain name [x]"


def test_csv_quotes_a_bare_carriage_return_and_neutralises_formulas():
    table = Table([Column("name", "name"), Column("macs", "MACs", NUMBER)])
    for name in ("a\rb", "=1+1", "+x", "-x", "@x", "\tx", "ok,", 'q"', "\ud800", "\x1b[2J\x00"):
        table.add(name, -5)
    rows = list(csv.reader(io.StringIO(render.to_csv(table), newline="")))
    assert [r[0] for r in rows[1:]] == [
        "a\rb",
        "'=1+1",
        "'+x",
        "'-x",
        "'@x",
        "'\tx",
        "ok,",
        'q"',
        "\\ud800",
        "\\x1b[2J\\x00",
    ]
    assert {r[1] for r in rows[1:]} == {"-5"}  # numbers are numbers, never prefixed


def test_markdown_escapes_what_would_break_a_row_or_make_a_tag():
    assert render.md("a|b\nc<img src=x>&[l](u)`\\") == "a\\|b\\\\nc\\<img src=x\\>\\&\\[l\\](u)\\`\\\\"
    blocks = [Table([Column("name", "name", TEXT)], [["# x\n## y"]], title="t\n# fake")]
    text = render.to_markdown(blocks)
    assert text.count("\n#") == 0 and text.startswith("### t\\\\n# fake\n")


def test_long_titles_stay_one_line_in_a_pipe(cli, write_spec):
    # check's titles carry the spec's path; rich wrapped them mid-word at the console's width
    path = write_spec(spec("n", ["fc"], expect={"params": 1}), name="x" * 150 + ".json")
    for columns in ("40", "300"):
        result = cli("check", path, env={"COLUMNS": columns})
        assert f"{path}: figures that differ" in result.output
        assert result.output == cli("check", path, env={"COLUMNS": "80"}).output


def test_narrow_terminal_wraps_names_and_keeps_every_number():
    # resnet50 in 80 columns cropped the params, MACs, % and RF columns
    graph = analyze("resnet50")
    console = Console(file=io.StringIO(), width=80, force_terminal=True, color_system=None)
    render.to_console(report.analysis_blocks(graph), console)
    text = console.file.getvalue()
    assert max(cell_len(line) for line in text.splitlines()) == 80
    assert "…" not in text
    cells = [line.split("│")[1:-1] for line in text.splitlines() if line.startswith("│")]
    first_lines = {
        int(c[0]): [x.strip() for x in c] for c in cells if c[0].strip()
    }  # a row's numbers sit on its first line
    assert len(first_lines) == len(graph.nodes)
    for n in graph.nodes:
        row = first_lines[n.index]
        assert (row[4], row[5], row[7]) == (f"{n.params:,}", f"{n.macs:,}", report.fmt_rf(n.rf))


def test_narrow_terminal_run_table_keeps_every_figure():
    # run's table showed MACs as '118…' in an 80-column terminal
    from flopcount.runner import run_graph

    result = run_graph(analyze(TINY))
    for width in (40, 80):
        console = Console(file=io.StringIO(), width=width, force_terminal=True, color_system=None)
        render.to_console(report.run_blocks(result), console)
        text = console.file.getvalue()
        assert "…" not in text
        for r in result.layers:
            (_, _, _, _), (_, params, _, _), (_, macs, _, _) = report.run_figures(r)
            assert f"{params} ✓" in text and f"{macs} ✓" in text and f"{r.macs:,}" == macs


def test_table_wider_than_any_squeeze_keeps_its_numbers():
    table = Table([Column("name", "name"), Column("macs", "MACs", NUMBER)], [["a" * 30, 10**40]])
    console = Console(file=io.StringIO(), width=20, force_terminal=True, color_system=None)
    render.to_console([table], console)
    assert f"{10**40:,}" in console.file.getvalue()


# ---------------------------------------------------------------- output streams, through a real process


def flopcount(*args, **kw):
    env = {**os.environ, **kw.pop("env", {})}
    return subprocess.run([sys.executable, "-m", "flopcount", *map(str, args)], capture_output=True, env=env, **kw)


@pytest.mark.parametrize(
    "command",
    [
        ["analyze", TINY],
        ["analyze", TINY, "--format", "markdown"],
        ["check", "vgg16"],
        ["compare", "standard", "depthwise", "--M", 4, "--N", 8, "--DF", 8],
    ],
)
def test_a_cp1252_stream_gets_ascii_borders_not_a_traceback(command):
    out = flopcount(*command, env={"PYTHONIOENCODING": "cp1252"})
    assert out.returncode == 0, out.stderr
    assert out.stderr == b""
    text = out.stdout.decode("cp1252")
    if command[-1] != "markdown":
        assert "+-" in text and "┃" not in text


def test_a_lone_surrogate_in_a_name_reaches_every_format_of_a_real_stdout(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps(spec("net\ud800", ["fc\udfff"])))  # json escapes them: \ud800
    for fmt in ("table", "csv", "markdown", "json"):
        out = flopcount("analyze", path, "--format", fmt)
        assert out.returncode == 0 and out.stderr == b"", (fmt, out.stderr)
        assert b"\\udfff" in out.stdout


def test_a_full_disk_is_one_line_and_exit_2():
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    for fmt in ("table", "json"):
        with open("/dev/full", "w") as full:
            out = subprocess.run(
                [sys.executable, "-m", "flopcount", "analyze", "resnet50", "--format", fmt],
                stdout=full,
                stderr=subprocess.PIPE,
            )
        assert out.returncode == 2
        assert out.stderr.decode() == "Error: cannot write the output: No space left on device.\n"


@pytest.mark.parametrize(
    "command",
    [["analyze", "vgg16"], ["analyze", "vgg16", "--format", "csv"], ["check", "vgg16"], ["run", TINY, "--quiet"]],
)
def test_a_closed_pipe_exits_quietly_with_141_not_the_drift_status(command):
    proc = subprocess.Popen(
        [sys.executable, "-m", "flopcount", *map(str, command)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    proc.stdout.close()  # the reader is gone before a byte is written, as with `| head -1` on a long table
    stderr = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait() == 141
    assert stderr == b""


def test_a_grid_tables_footer_reaches_a_pipe_as_it_reaches_a_terminal():
    # the plain drawing of a GRID table (label and value pairs) dropped its footer lines; rich's printed them
    table = Table([Column("k", "k"), Column("v", "v", NUMBER)], [["a", 1]], frame="grid")
    table.footer.append(Line(("a note",)))
    terminal = Console(file=io.StringIO(), width=40, force_terminal=True, color_system=None)
    render.to_console([table], terminal)
    assert render.to_plain([table]) == terminal.file.getvalue() == "a  1\na note\n"
