"""Benchmark the HTML report at 10,000 layers: the time to build and write the file (analysis apart),
and the time headless Chromium takes to open it (load, run its script, lay out; --dump-dom wall time).
Targets: written in under 2 s, opened in under 5 s. The generated spec branches (a residual add every
four layers), so the report holds the graph drawing, capped at its first boxes.

On a shared machine the opening time follows the load: the 14-layer tests/data/tiny.json report is
opened alternately with the large one as the baseline (mostly Chromium's own start), and the load
average is printed.

Run: python benchmarks/bench_report.py [--layers 10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT), str(ROOT / "tests")]  # tests: browser.py
from bench_analyze import generated_spec
from browser import CHROMIUM, run_chromium

NODE = '<g class="node'  # a box of the graph drawing


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--layers", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from flopcount import analyze, build_graph, parse_spec
    from flopcount.cli import html_text
    from flopcount.memory import estimate_memory

    t = time.perf_counter()
    graph = build_graph(parse_spec(generated_spec(args.layers)))
    analysis = time.perf_counter() - t
    out = Path(tempfile.mkdtemp()) / "report.html"
    writes = []
    for _ in range(args.runs):
        t = time.perf_counter()
        out.write_text(html_text(graph, estimate_memory(graph)), encoding="utf-8")
        writes.append(time.perf_counter() - t)
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, {args.runs} runs")
    print(f"load average {', '.join(f'{x:.1f}' for x in os.getloadavg())} (1, 5, 15 min)")
    boxes = out.read_text().count(NODE)
    print(
        f"{len(graph.nodes):,} layers: analysis {analysis:.2f} s; report built and written {statistics.median(writes):.2f} s "
        f"(target < 2 s), {out.stat().st_size / 2**20:.1f} MiB, {boxes:,} graph boxes drawn"
    )
    if CHROMIUM is None:
        print("Chromium not installed: opening not measured")
        return
    tiny = analyze(str(ROOT / "tests" / "data" / "tiny.json"))
    small = out.with_name("tiny.html")
    small.write_text(html_text(tiny, estimate_memory(tiny)), encoding="utf-8")
    opens = {small: [], out: []}
    for _ in range(args.runs):
        for page in opens:
            opens[page].append(open_time(page))
    big, base = statistics.median(opens[out]), statistics.median(opens[small])
    print(
        f"opened by headless Chromium (--dump-dom) in {big:.2f} s (target < 5 s); the {len(tiny.nodes)}-layer report "
        f"in {base:.2f} s: {big / base:.1f}x"
    )
    print(f"load average {', '.join(f'{x:.1f}' for x in os.getloadavg())} at the end")


def open_time(page: Path) -> float:
    """Wall time of headless Chromium loading page, running its script and dumping the DOM."""
    t = time.perf_counter()
    run_chromium("--dump-dom", page.as_uri(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


if __name__ == "__main__":
    main()
