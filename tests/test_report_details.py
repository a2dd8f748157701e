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
        '<h2>t&lt;</h2><p class="note">largest 12 u&amp;, 3 bars; <span class="hover"></span></p>'
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
    assert render.to_csv(table) == '"na,me",n,parts\n"a\nb",100000000000000000000,"x,y"\nok,-3,\'-3\n'


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
    golden("formats/compare_failing.txt", render.to_plain(compare_report.comparison_blocks(cmp)))
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
