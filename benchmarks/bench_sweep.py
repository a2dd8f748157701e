"""Benchmark sweep against analyze: a 16-point sweep of mobilenet_v1 in one process against one
`analyze mobilenet_v1` process, whole-process wall time, measured alternately; medians of N runs.
The target is a ratio of at most 2.

Run: python benchmarks/bench_sweep.py [--runs 9]
"""

from __future__ import annotations

import argparse
import compileall
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

SWEEP = ["sweep", "mobilenet_v1", "--set", "alpha=1,0.75,0.5,0.25", "--set", "resolution=224,192,160,128"]
ANALYZE = ["analyze", "mobilenet_v1"]


def wall(args: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "flopcount", *args], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    runs = parser.parse_args().runs
    # byte-compiled as after `pip install .`, even where PYTHONDONTWRITEBYTECODE is set
    compileall.compile_dir(Path(__file__).resolve().parent.parent / "flopcount", quiet=1)
    wall(ANALYZE)  # warm the file cache
    samples = {"analyze": [], "sweep": []}
    for _ in range(runs):
        samples["analyze"].append(wall(ANALYZE))
        samples["sweep"].append(wall(SWEEP))
    a, s = (statistics.median(samples[k]) for k in ("analyze", "sweep"))
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, {runs} runs")
    print(f"analyze mobilenet_v1          {a * 1000:7.0f} ms")
    print(f"sweep mobilenet_v1, 16 points {s * 1000:7.0f} ms   ratio {s / a:.2f} (target <= 2)")


if __name__ == "__main__":
    main()
