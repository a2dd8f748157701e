"""The run report, the HTML page and the renderers' edges, each as exact text.

A run's timings differ every time, so the run report is drawn from a RunResult written by hand: one
layer that agrees, one whose params and MACs disagree (a fractional MAC count per sample), one that
raised, one that never ran. The HTML page is read back with html.parser and compared cell by cell
with the figures it draws.
"""

import csv
import io
import json
from fractions import Fraction
from html.parser import HTMLParser
from pathlib import Path

import pytest
from rich.color import ColorSystem
from rich.console import Console

from flopcount import analyze, render, report
from flopcount.memory import estimate_memory
from flopcount.runner import LayerRun, RunResult
from flopcount.table import BAD, BARS, BOX, CURVE, GOOD, GRID, NUMBER, RULE, STRONG, Chart, Column, Span, Table, line

TINY = Path(__file__).parent / "data" / "tiny.json"


def run_result(ok=False):
    """Four layers as run, in 1, 2, 3 and 0 ms of forward() and 4 ms of weights in all; batch 2."""
    good = LayerRun(0, "stem", "conv2d", 2, (8, 8, 4), 112, 0, 6912, shape=(8, 8, 4), trainable=112)
    good.metered_macs, good.seconds, good.weight_seconds = 2 * 6912, 0.001, 0.0015
    bad = LayerRun(1, "bn", "batch_norm", 2, (8, 8, 4), 8, 8, 0, shape=(8, 8, 4), trainable=16)
    bad.metered_macs, bad.seconds, bad.weight_seconds = 3, 0.002, 0.0025
    broken = LayerRun(2, "fc<1>", "dense", 2, (10,), 2570, 0, 2560, error="the kernel raised ValueError: no")
    broken.seconds = 0.003
    skipped = LayerRun(3, "probs", "softmax", 2, (10,), 0, 0, 0)
    layers = [good] if ok else [good, bad, broken, skipped]
    result = RunResult("net", 7, 2, layers, peak_estimate=3 * 2**20 + 2**19, activation_peak=4096)
    result.activation_estimate, result.max_rss = (4096, None) if ok else (4608, 50 * 2**20)
    return result


def test_the_run_table_and_verdict_as_drawn(golden):
    golden("formats/run_mismatch.txt", render.to_plain(report.run_blocks(run_result())))
    golden("formats/run_ok.txt", render.to_plain(report.run_blocks(run_result(ok=True))))


def test_the_run_json(golden):
    data = json.loads(report.run_to_json(run_result()))
    assert data["layers"][1]["macs"] == {"run": 1.5, "analyzer": 0, "ok": False}
    assert data["layers"][0]["gflop_per_second"] == round(2 * 2 * 6912 / 0.001 / 1e9, 3)
    assert [x["time_share"] for x in data["layers"]] == [round(s / 0.006, 6) for s in (0.001, 0.002, 0.003, 0)]
    assert data["totals"]["macs"] == {"run": 6913.5, "analyzer": 6912 + 2560}
    golden("formats/run_mismatch.json", report.run_to_json(run_result()) + "\n")


def test_the_run_json_without_time_has_no_speed_or_share():
    result = RunResult("net", 0, 1, [LayerRun(0, "x", "input", 1, (4,), 0, 0, 0, shape=(4,))])
    (layer,) = json.loads(report.run_to_json(result))["layers"]
    assert (layer["gflop_per_second"], layer["time_share"], layer["seconds"]) == (None, None, 0)


def test_the_verdict_lines_name_each_disagreeing_figure():
    assert report.verdict_lines(run_result()) == [
        "✗ 3 of 4 layers disagree with the analysis:",
        "  layer 1 'bn' (batch_norm): params: analyzer 16 (8 non-trainable), run 16",
        "  layer 1 'bn' (batch_norm): MACs: analyzer 0, run 1.50",
        "  layer 2 'fc<1>' (dense): the kernel raised ValueError: no",
        "  layer 3 'probs' (softmax): shape: analyzer (10,), run did not run",
    ]
    assert report.verdict_lines(run_result(ok=True)) == [
        "✓ All 1 layers agree with the analysis: shapes, 112 params and 6,912 MACs."
    ]
    (first,) = report.verdict_blocks(run_result(ok=True))
    assert first.parts == (Span(report.verdict_lines(run_result(ok=True))[0], GOOD),)
    first, *rest = report.verdict_blocks(run_result())
    assert first.parts[0].tone == BAD and [x.parts for x in rest][0] == (report.verdict_lines(run_result())[1],)


def test_gflops_needs_macs_and_time():
    layer = LayerRun(0, "x", "dense", 1, (4,), 0, 0, 0)
    layer.metered_macs, layer.seconds = 500_000_000, 0.5
    assert report.gflops(layer) == "2.00"
    layer.seconds = 0.0
    assert report.gflops(layer) == "-"
    layer.metered_macs, layer.seconds = 0, 0.5
    assert report.gflops(layer) == "-"


def test_run_html_blocks_put_the_timing_line_first_and_a_time_bar_per_layer():
    result = run_result()
    footer, chart, table, *verdict = report.run_html_blocks(result)
    assert footer.text.startswith("forward 0.006 s, weights 0.004 s, estimated peak memory 3.5 MiB")
    assert (chart.title, chart.unit, chart.kind) == ("Time per layer (forward, microseconds)", "µs", BARS)
    assert chart.labels == ["0 stem (conv2d)", "1 bn (batch_norm)", "2 fc<1> (dense)", "3 probs (softmax)"]
    assert chart.values == [1000, 2000, 3000, 0]
    assert table.title == "net: run with NumPy (batch 2, seed 7)" and len(verdict) == 5


# ---------------------------------------------------------------- the HTML page, read back


class Page(HTMLParser):
    """Tables as rows of (class, data-v, text) cells, charts' attributes, headings, paragraphs and scripts."""

    def __init__(self):
        super().__init__()
        self.tables, self.charts, self.headings, self.paragraphs, self.scripts, self.inputs = [], [], [], [], {}, []
        self.rows_keys, self.stack, self.text = [], [], None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.tables.append({"id": a["id"], "head": [], "rows": []})
        elif tag == "tr" and "data-key" in a:
            self.tables[-1]["rows"].append([])
            self.rows_keys.append(a["data-key"])
        elif tag in ("td", "th", "h1", "h2", "p", "script", "title"):
            self.stack.append((tag, a))
            self.text = ""
        elif tag == "svg" and a.get("class") == "chart":
            self.charts.append(a)
            self.stack.append((tag, a))
        elif tag in ("path", "polyline") and self.stack and self.stack[-1][0] == "svg":
            self.charts[-1][tag] = a
        elif tag == "input":
            self.inputs.append(a)

    def handle_data(self, data):
        if self.text is not None:
            self.text += data

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1][0] != tag:
            return
        _, a = self.stack.pop()
        if tag == "svg":
            return
        text, self.text = self.text, ("" if self.stack else None)
        if tag == "th":
            self.tables[-1]["head"].append((a["class"], text))
        elif tag == "td":
            self.tables[-1]["rows"][-1].append((a["class"], a.get("data-v"), text))
        elif tag in ("h1", "h2"):
            self.headings.append(text)
        elif tag == "p":
            self.paragraphs.append(text)
        elif tag == "script":
            self.scripts[a.get("id")] = text


def page(text):
    parsed = Page()
    parsed.feed(text)
    parsed.close()
    return parsed


def test_html_tables_hold_every_figure_of_the_csv(cli):
    graph = analyze(TINY)
    html = page(cli("analyze", TINY, "--format", "html", "--batch", "2").output)
    rows = list(csv.reader(io.StringIO(cli("analyze", TINY, "--format", "csv", "--batch", "2").output)))
    totals, layers, by_type, by_block = html.tables
    expected = [
        "flopcount: tiny (resolution=16, width=8), batch 2",
        "MACs per layer",
        "Parameters per layer",
        "Output activation memory per layer (float32)",
        "Live activation memory over the layers",
        "Layers",
        "By layer type",
        "By block",
    ]
    assert [h for h in html.headings if h in expected] == expected  # in this order, other sections between
    assert html.paragraphs[0] == "tiny (resolution=16, width=8), batch 2"
    assert [t for _, t in layers["head"]] == rows[0]
    assert [c for c, _ in layers["head"]] == ["n", "t", "t", "t"] + ["n"] * 6 + ["t"] + ["n"] * 4
    for row, cells in zip(rows[1:], layers["rows"]):
        assert [t.replace(",", "") for _, _, t in cells] == row
        assert [v for _, v, _ in cells] == [x if c == "n" else None for (c, _), x in zip(layers["head"], row)]
    assert len(layers["rows"]) == len(rows) - 1 == len(graph.nodes)
    assert [c[0][2] for c in by_type["rows"]] == [
        "input",
        "conv2d",
        "batch_norm",
        "add",
        "activation",
        "max_pool",
        "flatten",
        "dense",
        "softmax",
    ]
    assert [c[0][2] for c in by_block["rows"]] == ["input", "stem", "stage", "pool", "flatten", "fc", "probs"]
    # stage: two blocks of conv (576 params, 8x8x8 x 3x3x8 MACs) + bn (32) + add + relu, at batch 2
    assert by_block["rows"][2][1:] == [
        ("n", "8", "8"),
        ("n", "1216", "1,216"),
        ("n", None, "44.5 %"),  # 1216 / 2730
        ("n", str(2 * 2 * 36864), "147,456"),
        ("n", None, "83.0 %"),  # 73728 / 88832
    ]
    assert totals["rows"][0] == [("t", None, "Total params"), ("n", None, "2.73 K"), ("n", "2730", "2,730")]
    # a search box where a table has a name or type column: not the totals, not the blocks
    assert [i["data-filter"] for i in html.inputs] == [layers["id"], by_type["id"]]
    assert [i["placeholder"] for i in html.inputs] == ["filter by name or type", "filter by type"]
    assert html.rows_keys[len(totals["rows"]) + 2] == "stage_1/conv conv2d"


def test_html_charts_draw_the_figures(cli):
    graph = analyze(TINY)
    memory = estimate_memory(graph, 2)
    html = page(cli("analyze", TINY, "--format", "html", "--batch", "2").output)
    macs, params, output, live = html.charts
    assert macs["data-values"] == ",".join(str(2 * n.macs) for n in graph.nodes)
    assert params["data-values"] == ",".join(str(n.params) for n in graph.nodes)
    assert output["data-values"] == ",".join(str(m.activation) for m in memory.layers)
    assert live["data-values"] == ",".join(str(m.live) for m in memory.layers)
    assert [c["data-unit"] for c in html.charts] == ["MACs", "parameters", "bytes", "bytes"]
    assert {c["viewbox"] for c in html.charts} == {"0 0 14 100"}
    assert "polyline" in live and "path" not in live and "path" in macs
    labels = json.loads(html.scripts["labels"])
    assert labels == [f"{n.index} {n.name} ({n.type})" for n in graph.nodes]


def test_html_chart_geometry():
    bars = render.html_chart(Chart("t<", ["a", "b", "c"], [0, 3, 12], "u&"), "c1")
    assert bars == (
        '<h2>t&lt;</h2><p class="note">largest 12 u&amp;, 3 bars; <span class="hover">hover for each layer\'s figure</span></p>'
        '<svg class="chart" id="c1" data-values="0,3,12" data-unit="u&amp;" viewBox="0 0 3 100" '
        'preserveAspectRatio="none" xmlns="http://www.w3.org/2000/svg"><path class="bars" '
        'd="M0 100V100.00h0.8V100ZM1 100V75.00h0.8V100ZM2 100V0.00h0.8V100Z"/></svg>'
    )
    curve = render.html_chart(Chart("t", ["a", "b"], [1, 3000], "", CURVE), "c2")
    assert '<polyline class="curve" points="0.5,99.97 1.5,0.00"/>' in curve
    assert "largest 3,000 , 2 points;" in curve
    empty = render.html_chart(Chart("t", [], [], ""), "c3")
    assert 'viewBox="0 0 1 100"' in empty and 'd=""' in empty and "largest 1 , 0 bars" in empty
    zeros = render.html_chart(Chart("t", ["a"], [0], ""), "c4")
    assert 'd="M0 100V100.00h0.8V100Z"' in zeros and "largest 1 ," in zeros


def test_html_table_cells_spans_and_the_rest_held_back(monkeypatch):
    table = Table([Column("name", "name"), Column("n", "n", NUMBER), Column("size", "size", NUMBER)], title="T&")
    table.add("a<b", 1234, "1.5 KiB")
    table.add((Span("ok", GOOD), " ", Span("x", None), "<"), -5, (Span("!", BAD),))
    table.footer.append(line("note ", Span("bold", STRONG)))
    assert render.html_table(table, "t9") == (
        '<h2>T&amp;</h2><input type="search" data-filter="t9" placeholder="filter by name">'
        '<div class="scroll"><table class="sortable" id="t9"><thead><tr><th class="t">name</th><th class="n">n</th>'
        '<th class="n">size</th></tr></thead><tbody><tr data-key="a&lt;b"><td class="t">a&lt;b</td>'
        '<td class="n" data-v="1234">1,234</td><td class="n">1.5 KiB</td></tr><tr data-key="ok x&lt;">'
        '<td class="t"><span class="good">ok</span> x&lt;</td><td class="n" data-v="-5">-5</td>'
        '<td class="n"><span class="bad">!</span></td></tr></tbody></table></div>'
        '<p class="note">note <span class="strong">bold</span></p>'
    )
    monkeypatch.setattr(render, "HTML_ROWS", 1)
    text = render.html_table(Table([Column("k", "k")], [["A"], ["B"], ["<C"]]), "t1")
    assert '<tbody><tr data-key=""><td class="t">A</td></tr></tbody>' in text
    assert (
        '<script type="application/json" id="t1-rest">["\\u003ctr data-key=\\"\\">\\u003ctd class=\\"t\\">B\\u003c/td>'
        '\\u003c/tr>", "\\u003ctr data-key=\\"\\">\\u003ctd class=\\"t\\">&lt;C\\u003c/td>\\u003c/tr>"]</script>'
    ) in text
    assert text.endswith('<p><button type="button" data-rest="t1">show all 3 rows (the first 1 are shown)</button></p>')
    assert "data-filter" not in text and "<h2>" not in text


def test_to_html_page_frame():
    text = render.to_html([line("a & b"), line(), Table([Column("k", "k")], [["v"]])], title="T<")
    assert text.startswith(
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
        'content="width=device-width, initial-scale=1"><title>T&lt;</title><style>'
    )
    assert (
        '</style></head><body><h1>T&lt;</h1><script type="application/json" id="labels">[]</script><p>a &amp; b</p>'
        in text
    )
    assert text.count("<p>") == 1 and 'id="table2"' in text
    assert text.endswith("</script></body></html>\n")
    charts = render.to_html([Chart("c", ["x\x1b", "y"], [1, 2]), Chart("d", ["z"], [3])])
    assert '<script type="application/json" id="labels">["x\\\\x1b", "y"]</script>' in charts
    assert 'id="chart0"' in charts and 'id="chart1"' in charts and "<title>flopcount report</title>" in charts


# ---------------------------------------------------------------- plain text, terminals, Markdown and CSV


def plain(blocks, encoding="utf-8"):
    return render.to_plain(blocks, encoding)


def test_plain_frames_and_alignment():
    table = Table(
        [
            Column("name", "name"),
            Column("n", "n", NUMBER),
            Column("r", "r", align="right"),
            Column("l", "l", NUMBER, "left"),
        ],
        title="a title wider than the table is",
    )
    table.add("中x", 1000, "r", 7)
    table.footer.append(line("foot"))
    assert plain([table]) == (
        "a title wider than the table is\n"
        "┏━━━━━━┳━━━━━━━┳━━━┳━━━┓\n"
        "┃ name ┃     n ┃ r ┃ l ┃\n"
        "┡━━━━━━╇━━━━━━━╇━━━╇━━━┩\n"
        "│ 中x  │ 1,000 │ r │ 7 │\n"
        "└──────┴───────┴───┴───┘\n"
        "foot\n"
    )
    table.frame, table.title = RULE, "t"
    assert plain([table, line("x\x1b")]) == (
        "t                       \n"
        "                        \n"
        "  name       n   r   l  \n"
        " ────────────────────── \n"
        "  中x    1,000   r   7  \n"
        "                        \n"
        "foot\n"
        "x\\x1b\n"
    )
    table.frame = GRID
    assert plain([table]) == "中x  1,000  r  7\nfoot\n"


def test_plain_on_a_cp1252_stream_is_ascii_with_words_for_symbols():
    table = Table([Column("name", "name"), Column("ok", "ok")], [["é中", (Span("✓", GOOD), " 2×3")]], title="→ t")
    # cp1252 has é, ×, …, ², ·, — (kept) but not 中, ✓, →, ✗, ─ or ∑; widths are those of the text as written
    assert plain([table, line("✗ … ² · — ─ ∑")], "cp1252") == (
        "-> t                \n"
        "+------------------+\n"
        "| name    | ok     |\n"
        "|---------+--------|\n"
        "| é\\u4e2d | OK 2×3 |\n"
        "+------------------+\n"
        "X … ² · — - \\u2211\n"
    )
    assert render.encodable("✓ ✗ × → … ² · ─ — é", "ascii") == "OK X x -> ... ^2 * - - \\xe9"
    assert render.encodable("中", "no-such-codec") == "\\u4e2d"
    assert render.encodable("✓", "UTF_8") == "✓" and render.encodable("✓", None) == "✓"


def test_a_terminal_gets_richs_layout_and_the_plain_drawing_beyond_large(monkeypatch):
    def shown(blocks, width=60, encoding="utf-8"):
        console = Console(file=io.StringIO(), width=width, force_terminal=True, color_system=None)
        console.encoding  # noqa: B018
        monkeypatch.setattr(type(console), "encoding", property(lambda self: encoding))
        render.to_console(blocks, console)
        return console.file.getvalue()

    table = Table([Column("name", "name"), Column("n", "n", NUMBER)], [["a", 1], ["b", 2]], title="t")
    table.footer.append(line("foot"))
    assert shown([table, line("end")]) == plain([table, line("end")])
    grid = Table([Column("k", "k"), Column("v", "v", NUMBER)], [["a", 1]], frame=GRID)
    assert shown([grid]) == "a  1\n"
    assert shown([table], encoding="cp1252") == plain([table], "cp1252")
    monkeypatch.setattr(render, "LARGE", 1)
    big = Table([Column("name", "name")], [["x" * 30], ["y"]], title="t")
    big.footer.append(line("foot, drawn with the table"))
    assert shown([big], width=10) == "\n".join(render.plain_table(big)) + "\n"
    assert shown([big, line("after")], width=10).endswith("foot, drawn with the table\nafter\n")


def test_a_narrow_terminal_squeezes_text_to_the_floor_and_never_numbers():
    table = Table([Column("name", "name"), Column("n", "n", NUMBER)], [["abcdefghijkl", 123456]])
    console = Console(file=io.StringIO(), width=20, force_terminal=True, color_system=None)
    render.to_console([table], console)
    assert console.file.getvalue() == (
        "┏━━━━━━━━┳━━━━━━━━━┓\n┃ name   ┃       n ┃\n┡━━━━━━━━╇━━━━━━━━━┩\n│ abcdef │ 123,456 │\n"
        "│ ghijkl │         │\n└────────┴─────────┘\n"
    )
    console = Console(file=io.StringIO(), width=12, force_terminal=True, color_system=None)
    render.to_console([table], console)
    assert "123,456" in console.file.getvalue() and "│ abcdef │" in console.file.getvalue()
    assert render._overhead(GRID, 3) == 4 and render._overhead(BOX, 3) == 10


def test_markdown_levels_footers_and_lines():
    top = Table([Column("a", "a|b"), Column("n", "n", NUMBER)], [["- x", 1234]], title="T", level=1)
    top.footer.append(line("1. not a list"))
    under = Table([Column("a", "a")], [["y"]], title="U", level=2)
    assert render.to_markdown([top, line(""), line("> q"), under, Table([Column("a", "a")])]) == (
        "### T\n\n| a\\|b | n |\n|---|---|\n| - x | 1,234 |\n\n\\1. not a list\n\n\\> q\n\n#### U\n\n| a |\n|---|\n"
        "| y |\n\n| a |\n|---|\n"
    )
    assert render._md_line("  # h") == "  \\# h" and render._md_line("a # b") == "a # b"


def test_csv_keys_and_cells():
    table = Table([Column("na,me", "title"), Column("n", "n", NUMBER), Column("parts", "p")])
    table.add("a\nb", 10**20, (Span("x", GOOD), ",y"))
    table.add("ok", -3, "-3")
    table.add("Xx", 0, "X")  # nothing to quote
    assert render.to_csv(table) == '"na,me",n,parts\n"a\nb",100000000000000000000,"x,y"\nok,-3,\'-3\nXx,0,X\n'


def test_cell_text_and_lines():
    assert [render.cell_text(c) for c in ("a", 1234, (Span("x"), "y"))] == ["a", "1,234", "xy"]
    assert render.cell_text(1234, thousands=False) == "1234"
    assert line("a", Span("b", BAD)).text == "ab" and line().text == ""
    with pytest.raises(ValueError, match="^a row of 1 cells in a table of 2 columns$"):
        Table([Column("a", "a"), Column("b", "b")]).add("x")
    assert [Column("a", "a").justify, Column("a", "a", NUMBER).justify, Column("a", "a", align="right").justify] == [
        "left",
        "right",
        "right",
    ]


def test_visible_escapes_only_what_cannot_be_shown():
    assert render.visible("a\u00a0b") == "a\\xa0b" and render.visible("ok é") == "ok é"
    assert render._unicode("UTF_8") and render._unicode(None) and not render._unicode("latin-1")


def test_run_progress_names_the_layer_it_ran():
    from types import SimpleNamespace

    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=80, color_system=None)
    with render.run_progress(console) as advance:
        advance(1, 2, SimpleNamespace(name="fc\x1b"))
        console.print("between")
    assert "ran fc\\x1b" in screen.getvalue() and "1/2" in screen.getvalue()


# ---------------------------------------------------------------- compare: every verdict failing


def test_a_comparison_whose_every_check_fails_as_drawn(golden):
    """A real comparison with its checks' outcomes replaced by failures and skips, so each ✗ line is drawn."""
    from dataclasses import replace

    from flopcount import compare_report
    from flopcount.compare import Sizes, compare
    from flopcount.compare.execution import RFCheck, RunCheck
    from flopcount.compare.verdicts import Ratio

    cmp = compare("standard", "depthwise", Sizes(M=4, N=8, DF=8, stride=2))
    closed = cmp.closed.value
    cmp.ratios["macs"] = Ratio("macs", closed + 1, closed)
    cmp.ratios["params"] = Ratio("params", Fraction(1, 3), closed)
    cmp.a.params_formula = cmp.b.params_formula  # B's formula under A: it no longer equals A's count
    cmp.a.run = RunCheck(True, params=7, macs=9, shapes_ok=False, params_ok=False, macs_ok=True)
    cmp.b.run = RunCheck(False, note="over the budget")
    cmp.a.rf_check = RFCheck((3, 3), (2, 2), measured=(5, 3), measured_jump=None, probe_size=11)
    cmp.b.rf_check = RFCheck((3, 3), (2, 2), note="not measured: too large")
    cmp.notes.append("a note")
    blocks = compare_report.comparison_blocks(cmp)
    assert blocks[-1].parts == (
        Span(
            "✗ Failed checks: a_formulas, macs_ratio_equals_closed_form, "
            "params_ratio_equals_closed_form, a_run, a_receptive_field",
            STRONG,
        ),
    )
    golden("formats/compare_failing.txt", render.to_plain(blocks))
    cmp.a.run = replace(cmp.a.run, shapes_ok=True)
    cmp.b.run = RunCheck(True, params=1, macs=1, shapes_ok=True, params_ok=True, macs_ok=True)
    lines = render.to_plain(compare_report.comparison_blocks(cmp)).splitlines()
    assert f"Execution of B (depthwise) {compare_report.TICK}: params and MACs equal the analyzer's." in lines
    assert any(x.endswith("the analyzer 288 and 4,608") for x in lines)  # no "; output shapes differ"


@pytest.mark.parametrize(
    "value, text",
    [
        (Fraction(7, 25), "28 %"),
        (Fraction(22, 49), "44.9 %"),
        (Fraction(99999, 100000), "99.999 %"),
        (Fraction(1, 100000), "0.001 %"),
        (Fraction(1), "100 %"),
        (Fraction(0), "0 %"),
    ],
)
def test_compare_percent(value, text):
    from flopcount import compare_report

    assert compare_report.percent(value) == text


def test_compare_small_helpers():
    from flopcount import compare_report

    assert compare_report.decimal(Fraction(73, 576)) == "0.126736…"
    assert compare_report.decimal(Fraction(1, 4)) == "0.250000"
    assert compare_report.decimal(Fraction(1, 3), 2) == "0.33…"
    assert [compare_report.mark(x) for x in (None, True, False)] == ["", "✓", "✗"]
    assert compare_report.fmt_rf(()) == "-" and compare_report.fmt_rf((3, 5)) == "3×5"


def test_report_small_helpers():
    assert [report.human(n) for n in (999, 1000, -1500, 10**9, 2 * 10**12, -999)] == [
        "999",
        "1.00 K",
        "-1.50 K",
        "1.00 G",
        "2.00 T",
        "-999",
    ]
    assert report.human(999_999) == "1000.00 K"  # the unit follows the exact value; the rounding follows the unit
    assert report.percent(1, 3) == "33.3 %" and report.percent(1, 0) == "-"
    assert [report.fmt_rf(x) for x in ((), (3,), (3, 3), (7, 3))] == ["-", "3", "3", "7x3"]
    assert report.counted_under(analyze(TINY), None) is None
    assert report.counted_under(analyze(TINY), "flopcount") is None


# ---------------------------------------------------------------- a terminal: rich's layout, colours and encodings


def terminal(width=40, colour=None, encoding=None):
    console = Console(file=io.StringIO(), width=width, force_terminal=True, color_system=colour)
    if encoding:
        console._file = type("Stream", (io.StringIO,), {"encoding": encoding})()
    return console


def test_a_terminal_colours_spans_and_bolds_headers():
    console = terminal(colour="standard")
    table = Table([Column("name", "name"), Column("ok", "ok")], [["a", (Span("✓", GOOD), " x")]])
    render.to_console([table, line(Span("bad", BAD), " ", Span("b", STRONG))], console)
    assert console.file.getvalue() == (
        "┏━━━━━━┳━━━━━┓\n┃\x1b[1m \x1b[0m\x1b[1mname\x1b[0m\x1b[1m \x1b[0m┃\x1b[1m \x1b[0m\x1b[1mok \x1b[0m\x1b[1m \x1b[0m┃\n"
        "┡━━━━━━╇━━━━━┩\n│ a    │ \x1b[32m✓\x1b[0m x │\n└──────┴─────┘\n\x1b[31mbad\x1b[0m \x1b[1mb\x1b[0m\n"
    )


@pytest.mark.parametrize("frame", [BOX, RULE, GRID])
@pytest.mark.parametrize("title", ["", "a title"])
def test_a_terminal_draws_every_frame_as_the_plain_drawing(frame, title):
    table = Table(
        [Column("name", "name"), Column("n", "n", NUMBER), Column("r", "r", align="right")],
        [["中x", 1000, "r"], ["y", 2, "long right"]],
        title=title,
        frame=frame,
    )
    table.footer += [line("a footer line longer than the terminal is wide"), line("second")]
    console = terminal(width=30)
    render.to_console([table, line("a line longer than the terminal is wide, run on")], console)
    assert console.file.getvalue() == plain([table, line("a line longer than the terminal is wide, run on")])


def test_a_narrow_grid_keeps_its_own_least_width():
    # a grid's least width is its floors and numbers plus 2 between columns (6 + 7 + 2 = 15), not a box's borders
    table = Table([Column("k", "k"), Column("v", "v", NUMBER)], [["abcdefghij", 123456]], frame=GRID)
    console = terminal(width=15)
    render.to_console([table], console)
    assert console.file.getvalue() == "abcdef  123,456\nghij           \n"


def test_a_terminal_that_cannot_encode_gets_the_escapes(monkeypatch):
    table = Table([Column("name", "name"), Column("ok", "ok")], [["中", (Span("✓", GOOD),)]], title="t")
    for console in (terminal(encoding="cp1252"), Console(file=io.StringIO(), width=40)):
        if not console.is_terminal:
            console._file = type("Stream", (io.StringIO,), {"encoding": "cp1252"})()
        render.to_console([table, line("✓ 中")], console)
        assert console.file.getvalue() == plain([table, line("✓ 中")], "cp1252"), console.is_terminal
        assert "\\u4e2d" in console.file.getvalue() and "OK" in console.file.getvalue()
    monkeypatch.setattr(render, "LARGE", 1)
    big = Table([Column("name", "name")], [["✓"], ["中"]])
    console = terminal(encoding="cp1252")
    render.to_console([big], console)
    assert console.file.getvalue() == plain([big], "cp1252") and "\\u4e2d" in console.file.getvalue()


def test_a_table_of_exactly_large_rows_still_gets_richs_layout(monkeypatch):
    monkeypatch.setattr(render, "LARGE", 2)
    table = Table([Column("name", "name"), Column("n", "n", NUMBER)], [["abcdefghijkl", 1], ["b", 2]])
    console = terminal(width=14)
    render.to_console([table], console)
    assert "│ abcdef │" in console.file.getvalue()  # folded by rich; the plain drawing would run on
    table.add("c", 3)
    console = terminal(width=14)
    render.to_console([table], console)
    assert "│ abcdefghijkl │" in console.file.getvalue()


def test_the_clis_console_prints_titles_as_written(capsys):
    # column titles reach rich as text: no markup, no emoji codes, no highlighting of numbers
    console = render.console()
    console._force_terminal = True
    console._color_system = None
    table = Table([Column("a", "[red]x[/red] :smile: 12"), Column("b", "b")], [["1", "2"]])
    render.to_console([table], console)
    assert "[red]x[/red] :smile: 12" in capsys.readouterr().out
    console._color_system = ColorSystem.STANDARD  # highlighting would colour the 12
    render.to_console([table], console)
    out = capsys.readouterr().out
    assert "[red]x[/red] :smile: 12" in out and "\x1b[1m12" not in out and "\x1b[1;36m" not in out


def test_html_table_without_title_search_or_footer_is_the_table_alone(monkeypatch):
    table = Table([Column("k", "k")], [["A"], ["B"]])
    monkeypatch.setattr(render, "HTML_ROWS", 2)  # exactly HTML_ROWS rows: nothing held back
    assert render.html_table(table, "t1") == (
        '<div class="scroll"><table class="sortable" id="t1"><thead><tr><th class="t">k</th></tr></thead><tbody>'
        '<tr data-key=""><td class="t">A</td></tr><tr data-key=""><td class="t">B</td></tr></tbody></table></div>'
    )
    table.footer += [line("one"), line("two")]
    assert render.html_table(table, "t1").endswith('</div><p class="note">one</p><p class="note">two</p>')


def test_html_drawing_as_drawn():
    from flopcount.table import Box, Drawing, Edge

    boxes = [
        Box(10, 20, 100, 40, (0, 1), ("in<", "2 layers"), ("a", "b\nc"), 0),
        Box(10, 80, 100, 40, (2,), ("add", "x"), ("d",), 3),
    ]
    edges = [Edge(1, 2, ((60, 60), (60, 70), (60, 80))), Edge(0, 2, ((20, 60), (20, 80)), long=True)]
    text = render.html_drawing(Drawing("Graph &", boxes, edges, 120, 130, "note"), "g5")
    assert text == (
        '<h2 id="g5-title">Graph &amp;</h2><p class="note">note</p><div class="scroll"><svg class="graph" id="g5" '
        'width="120" height="130" viewBox="0 0 120 130" xmlns="http://www.w3.org/2000/svg"><defs><marker '
        'id="g5-arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" orient="auto"><path '
        'd="M0 0L8 4L0 8z"/></marker></defs><g class="edges"><path class="edge" data-from="1" data-to="2" '
        'd="M60 60 L60 70 L60 80" marker-end="url(#g5-arrow)"/><path class="edge long" data-from="0" data-to="2" '
        'd="M20 60 L20 80" marker-end="url(#g5-arrow)"/></g><g class="boxes"><g class="node s0" data-layers="0,1" '
        'transform="translate(10 20)"><title>a\nb\\nc</title><rect width="100" height="40" rx="4"/><text x="6" '
        'y="15">in&lt;</text><text class="sub" x="6" y="30">2 layers</text></g><g class="node s3" data-layers="2" '
        'transform="translate(10 80)"><title>d</title><rect width="100" height="40" rx="4"/><text x="6" y="15">add'
        '</text><text class="sub" x="6" y="30">x</text></g></g></svg></div>'
    )
    assert render.html_drawing(Drawing("G", [], [], 0, 0, "a chain"), "g1") == (
        '<h2 id="g1-title">G</h2><p class="note">a chain</p>'
    )
    page = render.to_html([line("x"), Drawing("G", boxes, edges, 120, 130)])
    assert 'id="graph1"' in page and "url(#graph1-arrow)" in page


# ---------------------------------------------------------------- reports: what only some inputs show


def test_the_run_report_marks_each_figure_by_its_agreement():
    table, *_ = report.run_blocks(run_result())
    marks = [[c[0 if i == 3 else -1] for i, c in enumerate(row) if isinstance(c, tuple)] for row in table.rows]
    assert marks[0] == [Span("✓", GOOD)] * 3 and marks[1] == [Span("✓", GOOD), Span("✗", BAD), Span("✗", BAD)]
    assert table.footer[1].parts[-1] == Span("✗", BAD)
    ok_table, *_ = report.run_blocks(run_result(ok=True))
    assert ok_table.footer[1].parts[-1] == Span("✓", GOOD)
    assert [c.kind for c in table.columns] == [NUMBER, "text", "text", "text"] + [NUMBER] * 5
    assert [c.key for c in table.columns] == [
        "index", "name", "type", "shape", "params", "macs", "ms", "gflops", "time_share"
    ]  # fmt: skip


def test_run_speeds_and_times_at_full_precision():
    fast = LayerRun(0, "fc", "dense", 1, (4,), 0, 0, 5 * 10**17, shape=(4,), metered_macs=5 * 10**17)
    fast.seconds = 1.0  # 10^18 FLOPs in a second: 10^9 GFLOP/s exactly
    odd = LayerRun(1, "x", "dense", 1, (4,), 0, 0, 1, shape=(4,), metered_macs=1, seconds=0.0012345678)
    odd.weight_seconds = 0.0000012345
    instant = LayerRun(2, "y", "dense", 1, (4,), 0, 0, 1, shape=(4,), metered_macs=1, seconds=0.0)
    result = RunResult("net", 0, 1, [fast, odd, instant])
    assert report.gflops(fast) == "1,000,000,000.00"
    data = json.loads(report.run_to_json(result))
    assert [x["gflop_per_second"] for x in data["layers"]] == [1e9, round(2 / 0.0012345678 / 1e9, 3), None]
    assert [x["seconds"] for x in data["layers"]] == [1.0, 0.001235, 0.0]
    assert (data["forward_seconds"], data["weight_seconds"]) == (1.001235, 0.000001)
    assert report.run_html_blocks(result)[1].values == [1_000_000, 1235, 0]


def test_html_blocks_carry_the_batch_and_the_memory_given(cli):
    from flopcount.memory import estimate_memory

    graph = analyze(TINY)
    default = report.html_blocks(graph)
    assert render.to_html(default) == render.to_html(report.html_blocks(graph, estimate_memory(graph)))
    blocks = report.html_blocks(graph, estimate_memory(graph, 2, "int8", "float16"))
    totals = next(b for b in blocks if isinstance(b, Table) and b.frame == GRID)
    assert [r[0] for r in totals.rows][3:7] == [
        "MACs",
        "Other ops",
        "Weight memory (int8)",
        "Peak activations (float16, at 'stage_1/bn')",
    ]
    assert totals.rows[3][2] == 2 * 88_832 and totals.rows[5][2] == 2730
    by_type, by_block = [b for b in blocks if isinstance(b, Table) and b.title in ("By layer type", "By block")]
    assert [c.title for c in by_type.columns][:2] == ["type", "layers"] and by_type.rows[1][4] == 2 * 87_552
    assert [c.title for c in by_block.columns][:2] == ["block", "layers"] and by_block.rows[2][4] == 2 * 73_728
    drawing = next(b for b in blocks if type(b).__name__ == "Drawing")
    assert any(f"{2 * 36_864:,} MACs" in t for box in drawing.boxes for t in box.title)


def test_a_convention_counting_every_parameter_says_so(cli):
    text = cli("analyze", TINY, "--convention", "keras").output
    assert "keras: Keras (model.summary(); FLOPs as TensorFlow's profiler states them). Its figure:" in text
    assert "; every parameter.\n" in text


@pytest.mark.parametrize("changed, tail", [(10, "l9"), (11, "l9, ...")])
def test_the_junit_message_lists_ten_changed_layers_then_dots(changed, tail):
    from types import SimpleNamespace

    from flopcount.check_report import failure_message

    c = SimpleNamespace(drifts=[], layers=[SimpleNamespace(name=f"l{i}") for i in range(changed)], missing=[])
    assert failure_message(c) == f"{changed} layer(s) changed: " + ", ".join(f"l{i}" for i in range(9)) + f", {tail}"


def test_compare_headline_is_strong_and_a_zero_side_has_no_ratio(cli, golden, tmp_path, monkeypatch):
    from flopcount import compare_report
    from flopcount.compare import Sizes, compare

    cmp = compare("standard", "depthwise", Sizes(M=4, N=8, DF=8))
    assert compare_report.comparison_blocks(cmp)[0].parts[0].tone == STRONG
    monkeypatch.chdir(tmp_path)
    Path("relu.json").write_text(
        json.dumps({"name": "relu", "input": [16], "layers": [{"type": "activation", "fn": "relu"}]})
    )
    Path("fc.json").write_text(json.dumps({"name": "fc", "input": [16], "layers": [{"type": "dense", "units": 4}]}))
    result = cli("compare", "relu.json", "fc.json", "--no-run")
    assert result.exit_code == 0 and "  params                0     68          -  \n" in result.output
    golden("formats/compare_from_nothing.txt", result.output)
    golden("formats/compare_from_nothing.json", cli("compare", "relu.json", "fc.json", "--format", "json").output)


def test_compare_percent_stops_at_eleven_decimals():
    from flopcount import compare_report

    assert compare_report.percent(1 - Fraction(1, 10**14)) == "100.00000000000 %"  # 11 digits, then it rounds


def test_an_empty_grid_column_takes_no_width():
    table = Table([Column("a", "a"), Column("b", "b"), Column("c", "c")], [["x", "", "y"]], frame=GRID)
    assert plain([table]) == "x    y\n"  # two gaps of two spaces around a column of width 0


def test_a_number_before_a_text_column_keeps_its_width_when_the_terminal_is_narrow():
    # the least width adds every column's share: a text column's floor after a number does not replace it
    table = Table([Column("macs", "MACs", NUMBER), Column("name", "name")], [[10**40, "a" * 30]])
    console = terminal(width=20)
    render.to_console([table], console)
    text = console.file.getvalue()
    assert f"{10**40:,}" in text and "…" not in text and "│ aaaaaa │" in text  # the name folds, not vanishes


def test_the_library_reports_default_to_one_sample_in_float32():
    from flopcount.memory import estimate_memory

    graph = analyze(TINY)
    memory = estimate_memory(graph)
    assert report.to_json(graph) == report.to_json(graph, memory=memory)
    assert report.to_json(graph, "type") == report.to_json(graph, "type", memory=memory)
    assert render.to_csv(report.csv_table(graph)) == render.to_csv(report.csv_table(graph, memory=memory))
    assert render.to_plain([report.layer_table(graph)]) == render.to_plain([report.layer_table(graph, memory=memory)])
    assert report.graph_dict(graph) == report.graph_dict(graph, memory=memory)
    assert report.totals_table(graph).rows == report.totals_table(graph, memory=memory).rows
    assert [r[0] for r in report.totals_table(graph).rows][3:5] == ["MACs", "Other ops"]  # no FLOPs unless asked
