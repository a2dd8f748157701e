"""Benchmark the HTML report at 10,000 layers: the time to build and write the file (analysis apart),
and the time headless Chromium takes to open it (load, run its script, lay out; --dump-dom wall time).
Targets: written in under 2 s, opened in under 5 s.

Run: python benchmarks/bench_report.py [--layers 10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]
from bench_analyze import generated_spec


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--layers", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from flopcount import build_graph, parse_spec
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
    print(
        f"{len(graph.nodes):,} layers: analysis {analysis:.2f} s; report built and written {statistics.median(writes):.2f} s "
        f"(target < 2 s), {out.stat().st_size / 2**20:.1f} MiB"
    )
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("Chromium not installed: opening not measured")
        return
    opens = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as profile:
            t = time.perf_counter()
            subprocess.run(
                [
                    browser,
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    f"--user-data-dir={profile}",
                    "--dump-dom",
                    out.as_uri(),
                ],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            opens.append(time.perf_counter() - t)
    print(f"opened by headless Chromium (--dump-dom) in {statistics.median(opens):.2f} s (target < 5 s)")


if __name__ == "__main__":
    main()
