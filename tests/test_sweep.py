"""flopcount sweep: a grid of settings, each row the same analysis as analyze --set."""

import csv
import io
import json
import re
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal

import pytest

from flopcount.sweep import parse_grid, sweep

ALPHAS = ["1", "0.75", "0.5", "0.25"]
RESOLUTIONS = ["224", "192", "160", "128"]


def millions(n: int, places: int = 0) -> Decimal:
    """n in millions, rounded half up to places decimals."""
    return (Decimal(n) / 10**6).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def significant(n: int, digits: int = 2) -> Decimal:
    """n in millions, rounded half up to two significant figures (4,231,976 -> 4.2; 470,072 -> 0.47)."""
    m = Decimal(n) / 10**6
    return m.quantize(Decimal(1).scaleb(m.adjusted() - digits + 1), rounding=ROUND_HALF_UP)


def test_mobilenet_paper_table_6_width_multiplier():
    # Howard et al., 2017, Table 6 (224 x 224): 569, 325, 149, 41 million Mult-Adds; 4.2, 2.6, 1.3, 0.47 million
    # parameters. Rule checked: MACs rounded half up to the million; parameters are the trainable ones (the paper
    # counts no batch-norm statistics) rounded half up to two significant figures.
    _, points = sweep("mobilenet_v1", parse_grid(["alpha=" + ",".join(ALPHAS)]))
    assert [p.totals.macs for p in points] == [568_740_352, 325_400_448, 149_497_088, 41_030_272]
    assert [millions(p.totals.macs) for p in points] == [569, 325, 149, 41]
    assert [p.totals.trainable for p in points] == [4_231_976, 2_585_560, 1_331_592, 470_072]
    assert [significant(p.totals.trainable) for p in points] == [
        Decimal("4.2"),
        Decimal("2.6"),
        Decimal("1.3"),
        Decimal("0.47"),
    ]


def test_mobilenet_paper_table_7_resolution():
    # Howard et al., 2017, Table 7 (alpha 1): 569, 418, 290, 186 million Mult-Adds, 4.2 million parameters each.
    _, points = sweep("mobilenet_v1", parse_grid(["resolution=" + ",".join(RESOLUTIONS)]))
    macs = [p.totals.macs for p in points]
    assert macs == [568_740_352, 418_121_728, 290_675_200, 186_400_768]
    assert [millions(m) for m in macs] == [569, 418, 291, 186]
    # the paper prints 290 at 160: the exact count is 290,675,200 (290.68 million), which rounds to 291; the
    # paper truncated there, while 568.74 it rounded up to 569. The count stands; the figure is not bent.
    assert millions(290_675_200, 2) == Decimal("290.68")
    assert {p.totals.params for p in points} == {4_253_864}


def test_the_grid_is_every_combination_first_variable_slowest():
    _, points = sweep("mobilenet_v1", parse_grid(["alpha=" + ",".join(ALPHAS), "resolution=" + ",".join(RESOLUTIONS)]))
    assert [tuple(p.settings.values()) for p in points][:5] == [(1, 224), (1, 192), (1, 160), (1, 128), (0.75, 224)]
    assert points[6].totals.macs == 166_396_800  # alpha 0.75 at 160
    assert points[0].memory.weights == 4 * 4_253_864


def test_sweep_formats(cli):
    args = ["sweep", "mobilenet_v1", "--set", "alpha=1,0.25", "--batch", "2"]
    data = json.loads(cli(*args, "--format", "json").output)
    assert [p["macs"] for p in data["points"]] == [2 * 568_740_352, 2 * 41_030_272]
    assert data["points"][1]["settings"] == {"alpha": 0.25} and data["points"][1]["params"] == 475_544
    rows = list(csv.DictReader(io.StringIO(cli(*args, "--format", "csv").output)))
    assert [r["alpha"] for r in rows] == ["1", "0.25"] and rows[0]["weight_bytes"] == str(4 * 4_253_864)
    md = cli(*args, "--format", "markdown").output
    assert md.count("\n|") == 4 and "1,137,480,704" in md
    table = cli(*args)
    assert table.exit_code == 0 and "82,060,544" in table.output


def test_bad_grids_are_exit_2(cli):
    for bad, text in [
        ("alpha=1,,2", "--set takes NAME=V1,V2"),
        ("alpha", "--set takes NAME=V1,V2"),
        ("nope=1", "nope"),
    ]:
        result = cli("sweep", "mobilenet_v1", "--set", bad)
        assert result.exit_code == 2 and text in result.output, result.output


@pytest.mark.parametrize("fmt", ["json", "html", "svg"])
def test_sweep_does_not_import_numpy(fmt):
    code = (
        "import sys; from flopcount.cli import main\n"
        f"try: main(['sweep', 'mobilenet_v1', '--set', 'alpha=1,0.5', '--format', {fmt!r}])\n"
        "except SystemExit: pass\n"
        "assert 'numpy' not in sys.modules, 'numpy imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


GRID = ["--set", "alpha=" + ",".join(ALPHAS), "--set", "resolution=" + ",".join(RESOLUTIONS)]
POINT = re.compile(
    r'<g class="point" data-params="(\d+)" data-trainable="(\d+)" data-macs="(\d+)"><title>([^<]*)</title>'
)


def test_sweep_html_is_the_grid_and_a_point_per_setting_with_exact_figures(cli, tmp_path):
    path = tmp_path / "sweep.html"
    result = cli("sweep", "mobilenet_v1", *GRID, "-o", path)  # the suffix picks html
    assert result.exit_code == 0 and result.output == ""
    page = path.read_text()
    assert page == cli("sweep", "mobilenet_v1", *GRID, "--format", "html").output
    _, points = sweep("mobilenet_v1", parse_grid([GRID[1], GRID[3]]))
    found = POINT.findall(page)
    assert [tuple(map(int, f[:3])) for f in found] == [
        (p.totals.params, p.totals.trainable, p.totals.macs) for p in points
    ]
    assert len(found) == 16
    # the MobileNet paper's (Howard et al., 2017) Table 6, alpha 1 at 224: 569 million MACs, 4.2 million parameters
    assert found[0] == (
        "4253864",
        "4231976",
        "568740352",
        "alpha=1, resolution=224\n4,253,864 parameters (4,231,976 trainable)\n568,740,352 MACs",
    )
    assert ">0.25, 128</text>" in page  # each point labelled with its setting
    assert page.count('<tr data-key=""') == 16  # and the table, a row per setting
    assert page.count("<polyline") == 4  # a line per alpha, through its resolutions


def test_sweep_chart_is_on_log_scales_for_mobilenet():
    from math import log

    from flopcount.sweep import sweep_chart

    name, points = sweep(
        "mobilenet_v1", parse_grid(["alpha=" + ",".join(ALPHAS), "resolution=" + ",".join(RESOLUTIONS)])
    )
    chart = sweep_chart(name, points)
    assert "log scales" in chart.note
    macs = [p.totals.macs for p in points]
    ys = [d.y for d in chart.points]
    assert sorted(range(16), key=lambda i: macs[i]) == sorted(range(16), key=lambda i: -ys[i])  # up is more
    # equal ratios, equal distances: pixels per decade the same between any two points (to rounding)
    per_decade = [(ys[j] - ys[i]) / log(macs[i] / macs[j], 10) for i, j in [(0, 3), (4, 15), (8, 9)]]
    assert max(per_decade) - min(per_decade) < 6
    assert [t for _, t in chart.x_ticks] == ["500 K", "1 M", "2 M", "5 M"]
    left, top, right, bottom = chart.plot
    assert all(left < d.x < right and top < d.y < bottom for d in chart.points)


def test_sweep_svg_is_one_file_that_parses(cli, tmp_path):
    import xml.etree.ElementTree as ET

    text = cli("sweep", "mobilenet_v1", "--set", "alpha=1,0.5", "--format", "svg").output
    root = ET.fromstring(text)
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{ns}svg" and "@media (prefers-color-scheme: dark)" in text
    assert [c.get("data-macs") for c in root.iter(f"{ns}g")] == ["568740352", "149497088"]
    path = tmp_path / "chart.svg"
    assert cli("sweep", "mobilenet_v1", "--set", "alpha=1,0.5", "-o", path).exit_code == 0
    assert path.read_text() == text


def test_sweep_output_takes_the_format_asked_over_the_suffix(cli, tmp_path):
    path = tmp_path / "points.html"
    assert cli("sweep", "mobilenet_v1", "--set", "alpha=1,0.5", "--format", "csv", "-o", path).exit_code == 0
    assert path.read_text().startswith("alpha,params,")
    path = tmp_path / "points.txt"  # no known suffix: the table as plain text
    assert cli("sweep", "mobilenet_v1", "--set", "alpha=1,0.5", "-o", path).exit_code == 0
    assert "149,497,088" in path.read_text() and "\x1b" not in path.read_text()
