"""run's per-layer timing: time, GFLOP/s (2 x the metered MACs per second) and share of the run, in the table,
JSON and the HTML report."""

import json
import re
from pathlib import Path

TINY = Path(__file__).parent / "data" / "tiny.json"


def test_json_timing_is_consistent_per_layer(cli):
    data = json.loads(cli("run", TINY, "--format", "json", "-q", "--batch", "2").output)
    layers = data["layers"]
    assert abs(sum(r["time_share"] for r in layers) - 1) < 1e-4
    stem = layers[1]
    assert stem["macs"]["run"] == 8 * 8 * 8 * 3 * 3 * 3  # per sample; the speed counts the whole batch of 2
    speed = 2 * 2 * stem["macs"]["run"] / stem["seconds"] / 1e9  # from the seconds as rounded to the microsecond
    assert abs(stem["gflop_per_second"] - speed) <= 0.001 + 0.01 * speed
    assert layers[3]["gflop_per_second"] is None  # batch norm performs no MACs


def test_table_shows_time_speed_and_share(cli):
    out = cli("run", TINY, "-q", env={"COLUMNS": "200"}).output
    header = next(line for line in out.splitlines() if "MACs metered" in line)
    assert "ms" in header and "GFLOP/s" in header and "% time" in header
    shares = [float(m) for m in re.findall(r"(\d+\.\d) %", out)]
    assert len(shares) == 14 and abs(sum(shares) - 100) <= 14 * 0.05 + 0.1  # each share rounded to 0.1 %


def test_html_run_has_a_time_bar_per_layer_and_every_row(cli):
    text = cli("run", TINY, "-q", "--format", "html").output
    assert text.startswith("<!DOCTYPE html>")
    d = re.search(r'<path class="bars" d="([^"]*)"', text).group(1)
    assert d.count("M") == 14
    assert text.count("<tr data-key=") == 14 and "GFLOP/s" in text
