"""The HTML report: one self-contained file, checked in a real browser (headless Chromium) when one is installed.

Chromium comes from Debian's packages (`apt-get install chromium`; .ci/run installs it). Without it, the
browser tests skip and say why; the file's own structure is still checked.
"""

import re
import struct
import subprocess
import zlib
from collections import Counter
from pathlib import Path

import pytest
from browser import CHROMIUM, run_chromium  # one command line, a short temporary folder

from flopcount import analyze
from flopcount.memory import estimate_memory

TINY = Path(__file__).parent / "data" / "tiny.json"
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium is not installed (apt-get install chromium)"
)
BAR_LIGHT = (0xC8, 0x36, 0x2B)  # --bar in the light scheme (render.HTML_STYLE)
CURVE_LIGHT = (0x1F, 0x5F, 0xBF)  # --curve in the light scheme: the sweep chart's points
SHADES = {  # a graph box's fill, --s1 and --s4 (render.HTML_STYLE), and the page's background, per colour scheme
    "light": ((0xFB, 0xE4, 0xDF), (0xE2, 0x62, 0x4F), (0xFF, 0xFF, 0xFF)),
    "dark": ((0x3B, 0x2B, 0x2B), (0xA5, 0x45, 0x3A), (0x16, 0x18, 0x1C)),
}


def chromium(*args, timeout=60):
    return run_chromium(*args, timeout=timeout, capture_output=True, text=True)


def png_pixels(path):
    """(width, height, rows of RGB(A) tuples) of an 8-bit RGB or RGBA PNG: zlib and the five row filters."""
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks, header = 8, [], None
    while pos < len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + size]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
        pos += 12 + size
    width, height, depth, colour = header[:4]
    assert depth == 8 and colour in (2, 6)
    step = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride = width * step
    rows, prev = [], bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - step] if i >= step else 0
            b, c = prev[i], prev[i - step] if i >= step else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[x : x + 3]) for x in range(0, stride, step)])
        prev = line
    return width, height, rows


@pytest.fixture(scope="module")
def tiny_report(tmp_path_factory):
    from click.testing import CliRunner

    from flopcount.cli import main

    path = tmp_path_factory.mktemp("html") / "report.html"
    result = CliRunner().invoke(main, ["report", str(TINY), "-o", str(path)])
    assert result.exit_code == 0, result.output
    return path


def test_the_file_is_self_contained(tiny_report):
    text = tiny_report.read_text()
    assert text.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)  # nothing fetched: no script, style or image links
    assert "@media (prefers-color-scheme: dark)" in text


def test_analyze_format_html_is_the_same_report(cli, tiny_report):
    assert cli("analyze", TINY, "--format", "html").output == tiny_report.read_text()


@needs_chromium
def test_chromium_shows_one_row_per_layer_with_exact_figures_and_a_bar_per_layer(tiny_report):
    dom = chromium("--dump-dom", tiny_report.as_uri()).stdout
    graph = analyze(TINY)
    memory = estimate_memory(graph)
    layers = re.search(r'<table class="sortable" id="table7">.*?</table>', dom, re.DOTALL).group(0)
    rows = re.findall(r"<tr data-key[^>]*>(.*?)</tr>", layers, re.DOTALL)
    assert len(rows) == len(graph.nodes) == 14
    for row, n, m in zip(rows, graph.nodes, memory.layers):
        values = re.findall(r'data-v="(\d+)"', row)
        assert [int(v) for v in values[:1]] == [n.index]
        assert str(n.macs) in values and str(m.activation) in values and str(n.params) in values
    assert 'data-v="36864"' in rows[2]  # stage_1/conv: 8 x 8 x 8 outputs x 3 x 3 x 8 MACs
    for chart, values in (
        ("chart2", [n.macs for n in graph.nodes]),
        ("chart3", [n.params for n in graph.nodes]),
        ("chart4", [m.activation for m in memory.layers]),
    ):
        svg = re.search(rf'<svg class="chart" id="{chart}"[^>]*>(.*?)</svg>', dom, re.DOTALL)
        bars = re.findall(
            r"M(\d+) 100V([\d.]+)h0.8V100Z", re.search(r'<path class="bars" d="([^"]*)"', svg.group(1)).group(1)
        )
        assert [int(x) for x, _ in bars] == list(range(len(graph.nodes)))  # one bar per layer, in order
        tallest = max(values)
        assert all(
            abs(100 - float(y) - 100 * v / tallest) <= 0.005 for (_, y), v in zip(bars, values)
        )  # heights to 0.01
        assert f'data-values="{",".join(map(str, values))}"' in svg.group(0)
    assert re.search(r'<polyline class="curve" points="([^"]*)"', dom).group(1).count(",") == len(graph.nodes)


@needs_chromium
def test_a_large_table_opens_with_its_first_rows_and_the_rest_on_request(tmp_path):
    from flopcount import build_graph, parse_spec
    from flopcount.cli import html_text
    from flopcount.render import HTML_ROWS

    layers = [{"type": "dense", "units": 4, "name": f"d{i}"} for i in range(HTML_ROWS + 9)]
    graph = build_graph(parse_spec({"name": "long", "input": [4], "layers": layers}))
    path = tmp_path / "long.html"
    path.write_text(html_text(graph, estimate_memory(graph)))
    dom = chromium("--dump-dom", path.as_uri()).stdout
    table = re.search(r'<table class="sortable" id="table7">.*?</table>', dom, re.DOTALL).group(0)
    assert table.count("<tr data-key") == HTML_ROWS
    assert f"show all {HTML_ROWS + 10:,} rows" in dom and '"\\u003ctr data-key=\\"d1008 dense\\">' in dom
    svg = re.search(r'<path class="bars" d="([^"]*)"', dom).group(1)
    assert svg.count("M") == HTML_ROWS + 10  # every layer has its bar


@needs_chromium
def test_chromium_screenshot_has_bars_in_the_chart_area(tiny_report, tmp_path):
    shot = tmp_path / "shot.png"
    chromium("--window-size=1000,1400", "--hide-scrollbars", f"--screenshot={shot}", tiny_report.as_uri())
    width, height, rows = png_pixels(shot)
    assert (width, height) == (1000, 1400)

    def near(p):
        return all(abs(x - y) <= 12 for x, y in zip(p, BAR_LIGHT))

    bar_pixels = sum(near(p) for row in rows for p in row)
    assert bar_pixels > 5_000  # the MACs, params and memory bars: tens of thousands of red pixels, not a blank page


@pytest.fixture(scope="module")
def googlenet_report(tmp_path_factory):
    from flopcount.cli import html_text

    graph = analyze("googlenet")
    path = tmp_path_factory.mktemp("graph") / "googlenet.html"
    path.write_text(html_text(graph, estimate_memory(graph)))
    return path


@needs_chromium
def test_chromium_draws_a_box_per_run_and_an_edge_per_input_connection(googlenet_report):
    graph = analyze("googlenet")
    dom = chromium("--dump-dom", googlenet_report.as_uri()).stdout
    svg = re.search(r'<svg class="graph" id="graph6".*?</svg>', dom, re.DOTALL).group(0)
    boxes = [tuple(map(int, b.split(","))) for b in re.findall(r'<g class="node s[0-4]" data-layers="([\d,]+)"', svg)]
    edges = Counter(
        (int(a), int(b)) for a, b in re.findall(r'<path class="edge[^"]*" data-from="(\d+)" data-to="(\d+)"', svg)
    )
    # 9 inception modules of 4 branches and a concat, and 9 boxes of the stem, pools and head between them
    assert len(boxes) == 9 * (4 + 1) + 9
    assert sorted(i for box in boxes for i in box) == list(range(len(graph.nodes)))  # every layer in one box
    inside = Counter((u, v) for box in boxes for u, v in zip(box, box[1:]))
    assert all(graph.nodes[v].inputs == (u,) for u, v in inside)  # a box is a run of layers reading the one before
    assert edges + inside == Counter((u, n.index) for n in graph.nodes for u in n.inputs)  # one edge per connection
    assert sum(edges.values()) == 224 - (198 - 54)  # googlenet's input connections less those inside boxes
    # a box's tooltip lists its layers: 28 x 28 x 96 outputs x 192 inputs, then 28 x 28 x 128 x 3 x 3 x 96
    assert "<title>inception3a/branch2_1/conv (conv2d): 14,450,688 MACs\n" in svg
    assert "\ninception3a/branch2_2/conv (conv2d): 86,704,128 MACs\n" in svg


@needs_chromium
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_chromium_screenshot_of_the_drawing_has_boxes_in_both_colour_schemes(tmp_path, scheme):
    from flopcount.drawing import layout_graph
    from flopcount.render import to_html

    page = tmp_path / "graph.html"  # the drawing alone, at the top of a page the report's style
    page.write_text(to_html([layout_graph(analyze("googlenet"))]))
    shot = tmp_path / "graph.png"
    dark = ["--force-dark-mode"] if scheme == "dark" else []
    chromium(*dark, "--window-size=1000,900", "--hide-scrollbars", f"--screenshot={shot}", page.as_uri())
    _, _, rows = png_pixels(shot)
    pixels = Counter(p for row in rows for p in row)

    def near(colour):
        return sum(n for p, n in pixels.items() if all(abs(x - y) <= 6 for x, y in zip(p, colour)))

    light_box, strong_box, background = SHADES[scheme]
    assert near(background) > 500_000  # the page is in this scheme: its background fills most of it
    assert near(light_box) > 20_000  # the inception branches' boxes (a few thousand pixels each)
    assert near(strong_box) > 4_000  # conv3's run, the costliest box


def test_a_hostile_name_stays_text(cli, write_spec):
    name = '<script><img src=x onerror=alert(1)>"\x1b'  # a layer name cannot hold '/'
    path = write_spec({"name": name, "input": [4], "layers": [{"type": "dense", "units": 2, "name": name}]})
    result = cli("analyze", path, "--format", "html")
    assert result.exit_code == 0, result.output
    assert (
        "<img" not in result.output and result.output.count("<script") == 2
    )  # the labels and the page script, nothing else
    assert "&lt;script&gt;&lt;img src=x onerror=alert(1)&gt;&quot;\\x1b" in result.output


def test_a_hostile_name_in_the_drawing_stays_text(cli, write_spec):
    name = '<script><img src=x>"\x1b'  # short enough to be a box's label whole
    layers = [{"type": "add", "name": name, "inputs": ["input", "input"]}]
    result = cli("analyze", write_spec({"name": "n", "input": [4], "layers": layers}), "--format", "html")
    assert result.exit_code == 0, result.output
    svg = re.search(r'<svg class="graph".*?</svg>', result.output, re.DOTALL).group(0)
    assert "<img" not in result.output and result.output.count("<script") == 2
    assert svg.count("&lt;script&gt;&lt;img src=x&gt;&quot;\\x1b") == 2  # its label and its tooltip
    assert svg.count('data-from="0" data-to="1"') == 2  # the add reads the input twice: two edges


def test_report_does_not_import_numpy(tmp_path):
    import sys

    code = (
        "import sys; from flopcount.cli import main\n"
        f"main(['report', 'googlenet', '-o', {str(tmp_path / 'r.html')!r}], standalone_mode=False)\n"
        "assert 'numpy' not in sys.modules, 'numpy imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    assert '<svg class="graph"' in (tmp_path / "r.html").read_text()


@needs_chromium
def test_chromium_shows_the_sweeps_sixteen_points_with_exact_figures(tmp_path):
    from click.testing import CliRunner

    from flopcount.cli import main
    from flopcount.sweep import parse_grid, sweep

    grid = ["alpha=1,0.75,0.5,0.25", "resolution=224,192,160,128"]
    page = tmp_path / "sweep.html"
    result = CliRunner().invoke(main, ["sweep", "mobilenet_v1", "--set", grid[0], "--set", grid[1], "-o", str(page)])
    assert result.exit_code == 0, result.output
    dom = chromium("--dump-dom", page.as_uri()).stdout
    found = re.findall(r'<g class="point" data-params="(\d+)" data-trainable="(\d+)" data-macs="(\d+)">', dom)
    _, points = sweep("mobilenet_v1", parse_grid(grid))
    assert [tuple(map(int, f)) for f in found] == [(p.totals.params, p.totals.trainable, p.totals.macs) for p in points]
    # the MobileNet paper (Howard et al., 2017), Table 7: 290 million MACs at 160 (exactly 290,675,200)
    assert ("4253864", "4231976", "290675200") in found and len(found) == 16
    shot = tmp_path / "sweep.png"
    chromium("--window-size=900,700", "--hide-scrollbars", f"--screenshot={shot}", page.as_uri())
    _, _, rows = png_pixels(shot)
    blue = sum(all(abs(x - y) <= 12 for x, y in zip(p, CURVE_LIGHT)) for row in rows for p in row)
    assert blue > 16 * 20  # sixteen dots of radius 4 (about 40 solid pixels each): the chart is drawn
