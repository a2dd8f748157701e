"""Benchmark reading an ONNX file: `flopcount analyze F` against `import onnx; onnx.load(F)`.

Both run as whole processes, alternately, in the same run; the figures are medians of
N runs of wall time and of peak resident memory (the child's ru_maxrss), with the file's
size beside them. Targets (issue 16): analyze within 1.2x the time of onnx.load alone and
peak memory at most 1.5x the file's size. If onnx-tool is installed, its profile of the
same file is timed too.

F is torchvision's ResNet-50 exported with its weights (about 100 MB): pass one with
--file (tests/data/onnx/make_models.py --weights DIR writes one, with torch). Without
--file, one is built from tests/data/onnx/resnet50.onnx, the same export with its
weights left out, by filling every initializer with seeded random bytes: the same graph
and the same file size, no torch needed.

Run: python benchmarks/bench_import.py [--file resnet50.onnx] [--runs 9]
"""

from __future__ import annotations

import argparse
import compileall
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build_resnet50(path: Path) -> Path:
    """tests/data/onnx/resnet50.onnx with random weights embedded (about 102 MB)."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(ROOT / "tests" / "data" / "onnx" / "resnet50.onnx"), load_external_data=False)
    rng = np.random.default_rng(0)
    filled = []
    for t in model.graph.initializer:
        array = (rng.standard_normal(tuple(t.dims), dtype=np.float32) * 0.01).astype(np.float32)
        filled.append(numpy_helper.from_array(array, t.name))
    del model.graph.initializer[:]
    model.graph.initializer.extend(filled)
    onnx.save(model, str(path))
    return path


def run(cmd: list[str]) -> tuple[float, int]:
    """Wall seconds and peak resident bytes of one child process, measured by GNU time.

    A child's ru_maxrss would start from this (larger) process's high-water mark, which
    Linux carries across fork and exec; /usr/bin/time is a small program, so it does not.
    """
    proc = subprocess.run(
        ["/usr/bin/time", "-f", "%e %M", *cmd],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr}")
    seconds, kib = proc.stderr.strip().splitlines()[-1].split()
    return float(seconds), int(kib) * 1024


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--file", type=Path, help="an ONNX file (default: ResNet-50 built from the test fixture)")
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    # flopcount as after `pip install .`, which byte-compiles (onnx is installed so); without this, a shell
    # with PYTHONDONTWRITEBYTECODE set compiles flopcount's sources in every timed run (about 0.1 s)
    compileall.compile_dir(ROOT / "flopcount", quiet=1)
    tmp = None
    if args.file is None:
        tmp = tempfile.TemporaryDirectory()
        args.file = build_resnet50(Path(tmp.name) / "resnet50.onnx")
    f = str(args.file)
    py = sys.executable
    cmds = {
        "python -c 'import onnx; onnx.load(F)'": [py, "-c", f"import onnx; onnx.load({f!r})"],
        "flopcount analyze F": [py, "-m", "flopcount", "analyze", f],
    }
    try:
        import onnx_tool  # noqa: F401

        cmds["onnx-tool profile of F"] = [py, "-c", f"import onnx_tool; onnx_tool.model_profile({f!r})"]
    except ImportError:
        pass
    samples: dict[str, list] = {k: [] for k in cmds}
    for _ in range(args.runs):  # interleaved, so machine noise hits every command alike
        for name, cmd in cmds.items():
            samples[name].append(run(cmd))
    size = os.path.getsize(f)
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, {os.cpu_count()} cores")
    print(f"file: {Path(f).name}, {size / 2**20:.1f} MiB; medians of {args.runs} interleaved runs\n")
    base = statistics.median(s for s, _ in samples["python -c 'import onnx; onnx.load(F)'"])
    print(f"{'command':<40} {'time':>8} {'x load':>7} {'peak RSS':>10} {'x file':>7}")
    for name, runs in samples.items():
        t = statistics.median(s for s, _ in runs)
        rss = statistics.median(m for _, m in runs)
        print(f"{name:<40} {t * 1000:>6.0f}ms {t / base:>6.2f}x {rss / 2**20:>7.0f}MiB {rss / size:>6.2f}x")
    print("\ntargets: flopcount analyze F within 1.2x of onnx.load's time, peak memory at most 1.5x the file")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
