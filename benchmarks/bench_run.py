"""Benchmark the NumPy runner against this machine's float32 GEMM peak, all measured in one run.

For VGG16, ResNet-50, MobileNet v1 and ViT-B/16 at 224 x 224, batch 1, BERT-base at sequence
128, batch 1, the DCGAN generator at batch 1 and 16 and the Keras IMDB LSTM at batch 1 and 32
(the example's batch size):

* forward time: graph execution only (weight creation excluded), median of --repeat runs
  in one process after a warm-up run; GFLOP/s = 2 x MACs / forward time, and that as a
  fraction of the GEMM peak, the median rate of a large square float32 matmul sampled
  before, between and after the other measurements.
* whole process: wall time of ``python -m flopcount run SPEC -q`` (median of --repeat)
  against its floor, the wall time of a process that only imports NumPy
  (``python -c "import numpy"``) plus 2 x MACs / GEMM peak; and the process's peak RSS.

The machine is shared and noisy: every figure is a median. Run with
``python benchmarks/bench_run.py``; ``--quick`` for fewer repeats.
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

import numpy as np

import flopcount
from flopcount.graph import analyze
from flopcount.runner import run_graph

SPECS = (
    ("vgg16", 1),
    ("resnet50", 1),
    ("mobilenet_v1", 1),
    ("vit_b_16", 1),
    ("bert_base", 1),
    ("dcgan_generator", 1),
    ("dcgan_generator", 16),
    ("imdb_lstm", 1),
    ("imdb_lstm", 32),
)
TARGETS = {
    ("vgg16", 1): 0.60,
    ("resnet50", 1): 0.50,
    ("mobilenet_v1", 1): 0.10,
    ("vit_b_16", 1): 0.50,
    ("bert_base", 1): 0.40,
}  # fraction of GEMM peak


class GemmPeak:
    """GFLOP/s of an n x n float32 matmul, sampled at several points of the run (the machine is noisy)."""

    def __init__(self, n: int):
        rng = np.random.default_rng(0)
        self.n = n
        self.a, self.b = rng.random((n, n), dtype=np.float32), rng.random((n, n), dtype=np.float32)
        self.a @ self.b
        self.samples: list[float] = []

    def sample(self, count: int) -> None:
        for _ in range(count):
            start = time.perf_counter()
            self.a @ self.b
            self.samples.append(2 * self.n**3 / (time.perf_counter() - start) / 1e9)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


def forward_times(spec: str, repeat: int, batch: int = 1) -> tuple[int, list[float], list[float]]:
    """MACs of the whole batch, and forward and weight-creation seconds of each run."""
    graph = analyze(spec)
    run_graph(graph, batch=batch)  # warm-up
    fwd, weights = [], []
    for _ in range(repeat):
        result = run_graph(graph, batch=batch)
        assert result.ok, spec
        fwd.append(result.seconds)
        weights.append(result.weight_seconds)
    return batch * graph.totals.macs, fwd, weights


# A small launcher times the child and reads its peak RSS: Linux carries a process's peak RSS
# across fork and exec, so a child forked from this (large) benchmark process would report ours.
LAUNCHER = """
import os, sys, time
stdout = os.dup(1)
os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # the child's output is not measured
start = time.perf_counter()
pid = os.spawnv(os.P_NOWAIT, sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
os.write(stdout, f"{wall} {usage.ru_maxrss * 1024} {os.waitstatus_to_exitcode(status)}".encode())
"""


def process(args: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of one child process running args."""
    out = subprocess.run([sys.executable, "-c", LAUNCHER, *args], capture_output=True, text=True, check=True).stdout
    wall, rss, code = out.split()
    if code != "0":
        raise SystemExit(f"{' '.join(args)} exited {code}")
    return float(wall), int(rss)


def blas_info() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # NumPy's build record names the library, not the kernel it picked
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas['name']} {blas['version']} (install threadpoolctl for its kernel and threads)"
    return "; ".join(
        f"{i['internal_api']} {i['version']} {i.get('architecture', '?')}, {i['num_threads']} threads"
        for i in threadpool_info()
        if i["user_api"] == "blas"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--gemm-size", type=int, default=4096)
    parser.add_argument("--quick", action="store_true", help="3 repeats and a 2048 matmul")
    args = parser.parse_args()
    if args.quick:
        args.repeat, args.gemm_size = 3, 2048
    env = {
        k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS") if k in os.environ
    }
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; Python {platform.python_version()}, "
        f"NumPy {np.__version__}; BLAS: {blas_info()}; env: {env or 'no OPENBLAS_* set'}"
    )

    gemm = GemmPeak(args.gemm_size)
    gemm.sample(args.repeat)
    measured = {}
    for spec, batch in SPECS:
        measured[spec, batch] = forward_times(spec, args.repeat, batch)
        gemm.sample(args.repeat)

    # PYTHONDONTWRITEBYTECODE may be set, and an editable install is never byte-compiled:
    # compile the package as `pip install` would, so the process pays no compile time
    compileall.compile_dir(Path(flopcount.__file__).parent, quiet=1)
    py = sys.executable
    numpy_walls = [process([py, "-c", "import numpy"])[0] for _ in range(args.repeat)]
    bare_walls = [process([py, "-c", "pass"])[0] for _ in range(args.repeat)]
    runs = [process([py, "-m", "flopcount", "run", "vgg16", "-q"]) for _ in range(args.repeat)]
    gemm.sample(args.repeat)
    peak = gemm.median
    print(
        f"float32 GEMM peak ({args.gemm_size}^3 matmul, median of {len(gemm.samples)} taken through the run): "
        f"{peak:.1f} GFLOP/s\n"
    )
    print("| spec | batch | MACs | forward (median) | GFLOP/s | of GEMM peak | target | weights (median) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for (spec, batch), (macs, fwd, weights) in measured.items():
        t = statistics.median(fwd)
        rate = 2 * macs / t / 1e9
        key = spec, batch
        target = f">= {TARGETS[key]:.0%}" if key in TARGETS else "-"
        verdict = "" if key not in TARGETS else (" ✓" if rate / peak >= TARGETS[key] else " ✗")
        print(
            f"| {spec} | {batch} | {macs:,} | {t * 1000:.1f} ms | {rate:.1f} | {rate / peak:.1%}{verdict} | {target} | "
            f"{statistics.median(weights) * 1000:.1f} ms |"
        )

    numpy_wall = statistics.median(numpy_walls)
    macs = analyze("vgg16").totals.macs
    floor = numpy_wall + 2 * macs / (peak * 1e9)
    wall = statistics.median(w for w, _ in runs)
    rss = max(r for _, r in runs)
    print(
        f"\n`flopcount run vgg16` process: {wall:.3f} s (median of {args.repeat}); floor {floor:.3f} s = "
        f"python -c 'import numpy' {numpy_wall:.3f} s (of which bare interpreter start {statistics.median(bare_walls):.3f} s) "
        f"+ 2 x MACs / peak {2 * macs / (peak * 1e9):.3f} s; ratio {wall / floor:.2f} (target <= 2){' ✓' if wall <= 2 * floor else ' ✗'}"
    )
    print(
        f"peak RSS of `flopcount run vgg16`: {rss / 2**30:.2f} GiB (max of {args.repeat}; target < 1.5 GiB)"
        f"{' ✓' if rss < 1.5 * 2**30 else ' ✗'}"
    )


if __name__ == "__main__":
    main()
