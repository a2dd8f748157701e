"""Benchmark the analyzer: whole-process wall time and in-process scaling with layer count.

(a) `flopcount analyze specs/vgg16.json` as a process, against `python -c pass` and
    `python -c "import click, rich"` (the floor for a click + rich program), measured
    alternately in the same run; medians of N runs.
(b) analysis time in-process (load, expand, build graph) of generated specs of 100,
    1,000 and 10,000 layers; median of N runs; time per layer shows linear growth.
(c) the time to render their default table.

Run: python benchmarks/bench_analyze.py [--runs 15]
"""

from __future__ import annotations

import argparse
import compileall
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def wall(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def process_times(runs: int) -> dict[str, float]:
    py = sys.executable
    cmds = {
        "python -c pass": [py, "-c", "pass"],
        "python -c 'import click, rich'": [py, "-c", "import click, rich, rich.table, rich.console"],
        "flopcount analyze specs/vgg16.json": [py, "-m", "flopcount", "analyze", str(ROOT / "specs" / "vgg16.json")],
        # 324 layers with attention, RMS norm and SwiGLU: to be as fast as VGG16's 41
        "flopcount analyze llama2_7b": [py, "-m", "flopcount", "analyze", "llama2_7b"],
    }
    samples: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(runs):  # interleave so machine noise hits them all alike
        for name, cmd in cmds.items():
            samples[name].append(wall(cmd))
    return {k: statistics.median(v) for k, v in samples.items()}


def generated_spec(n_layers: int) -> dict:
    """A conv/bn/relu chain with residual adds: every fourth layer is an add."""
    layers = []
    for i in range(n_layers // 4):
        layers += [
            {"type": "conv2d", "filters": 16, "kernel": 3, "padding": "same", "bias": False, "name": f"c{i}"},
            {"type": "batch_norm", "name": f"b{i}"},
            {"type": "activation", "fn": "relu", "name": f"r{i}"},
            {"type": "add", "inputs": [f"r{i}", f"c{i}"], "name": f"a{i}"},
        ]
    return {"name": f"chain{n_layers}", "input": [32, 32, 16], "layers": layers}


def scaling(runs: int) -> list[tuple[int, float]]:
    from flopcount import build_graph, parse_spec

    out = []
    for n in (100, 1_000, 10_000):
        spec = generated_spec(n)
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            build_graph(parse_spec(spec))
            times.append(time.perf_counter() - t)
        out.append((n, statistics.median(times)))
    return out


def rendering(runs: int) -> list[tuple[int, float]]:
    """Time to render the default table of a generated spec into an in-memory console."""
    import io

    from rich.console import Console

    from flopcount import build_graph, parse_spec
    from flopcount.render import to_console
    from flopcount.report import analysis_blocks

    out = []
    for n in (100, 1_000, 10_000):
        graph = build_graph(parse_spec(generated_spec(n)))
        times = []
        for _ in range(max(3, runs // 3)):
            console = Console(file=io.StringIO(), width=140, color_system=None)
            t = time.perf_counter()
            to_console(analysis_blocks(graph), console)
            times.append(time.perf_counter() - t)
        out.append((n, statistics.median(times)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    # as after `pip install .`, which byte-compiles; this environment may set PYTHONDONTWRITEBYTECODE
    compileall.compile_dir(ROOT / "flopcount", quiet=1)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.python_implementation()} "
        f"{platform.python_version()}; medians of {args.runs} runs"
    )
    times = process_times(args.runs)
    for name, t in times.items():
        print(f"  {name:40s} {t * 1000:8.1f} ms")
    floor = times["python -c 'import click, rich'"]
    ratio = times["flopcount analyze specs/vgg16.json"] / floor
    print(f"  analyze / import click+rich: {ratio:.2f}x (target <= 2x)")
    llama = times["flopcount analyze llama2_7b"] / times["flopcount analyze specs/vgg16.json"]
    print(f"  analyze llama2_7b / analyze vgg16: {llama:.2f}x (target: as fast)")
    print("in-process analysis (load + expand + graph):")
    for n, t in scaling(args.runs):
        print(f"  {n:6d} layers {t * 1000:8.1f} ms  {t / n * 1e6:6.1f} us/layer")
    print("rendering the default table (rich up to 1,000 rows, drawn directly beyond):")
    for n, t in rendering(args.runs):
        print(f"  {n:6d} layers {t * 1000:8.1f} ms  {t / n * 1e6:6.1f} us/layer")


if __name__ == "__main__":
    main()
