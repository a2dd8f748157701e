"""Execute a graph with NumPy: the second, independent witness of shapes, parameters and MACs.

Each layer runs its ``forward`` on seeded random float32 arrays. Three figures come
from what actually ran and are compared with the analyzer's: the output array's
shape, the sizes of the weight arrays the layer read (a mapping records each read;
those a kernel consumed as running statistics are non-trainable, whatever the layer
declared), and the multiply-accumulates its contractions performed (the kernels' Meter counts
them from operand shapes). The analyzer's rules are never called here.

Layers run in file order (a topological order); an activation is freed once its
last consumer has run, and a layer's weights exist only while it runs.
"""

from __future__ import annotations

import re
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from math import prod

import numpy as np

from . import kernels
from .errors import FlopcountError
from .graph import Graph, Node, freed_after, last_use, live_elements
from .memory import estimate_memory, fmt_bytes

ITEMSIZE = kernels.ITEMSIZE
BASE_BYTES = 96 * 2**20  # the interpreter, NumPy and OpenBLAS's buffers before any array (measured: 80-100 MiB)
POOL_SIZE = (1 << 20) + 7  # odd length, so tiled weights do not repeat along power-of-two axes


class RunError(FlopcountError):
    """The graph cannot be run as asked (memory limit, a layer that fails in forward())."""


# ---------------------------------------------------------------- weights


@lru_cache(maxsize=2)
def _pool(seed: int):
    """POOL_SIZE uniform values in [-1, 1), stored twice so any rotation is one slice."""
    values = np.random.default_rng(seed).random(POOL_SIZE, dtype=kernels.DTYPE) * 2 - 1
    return np.concatenate([values, values])


def _pattern(node: Node, name: str) -> tuple[int, float, float]:
    """(pool offset, centre, spread): weight element f is centre + spread x pool[(offset + f) % POOL_SIZE].

    Centre and spread are the weight's declared init.
    """
    init = node.weights[name].init
    offset = zlib.crc32(f"{node.index}/{node.name}/{name}".encode("utf-8", "surrogatepass")) % POOL_SIZE
    return (offset, init.centre, init.spread)


def make_weight(node: Node, name: str, seed: int):
    """A layer's weight array: the seeded random pool, rotated, tiled and scaled.

    Deterministic per (seed, layer index, layer name, weight name), and one pass of
    writes for any size: no random numbers are drawn per weight.
    """
    shape = node.weights[name].shape
    pool = _pool(seed)
    offset, centre, spread = _pattern(node, name)
    out = np.empty(prod(shape), dtype=kernels.DTYPE)
    for at in range(0, out.size, POOL_SIZE):
        n = min(POOL_SIZE, out.size - at)
        np.multiply(pool[offset : offset + n], spread, out=out[at : at + n])
    if centre:
        out += centre
    return out.reshape(shape)


TILE_ELEMENTS = 4 * 2**20  # 2-D weights larger than this (16 MiB) are handed over in row blocks
BLOCK_BYTES = 4 * 2**20  # at most one pool's length, so every block is one slice of the scaled pool


def _tiled(shape) -> bool:
    return len(shape) == 2 and prod(shape) > TILE_ELEMENTS and shape[1] <= POOL_SIZE


def _block_rows(shape) -> int:
    return max(1, min(BLOCK_BYTES // ITEMSIZE, POOL_SIZE) // shape[1])


class TiledWeight:
    """A large (rows, cols) weight that is never whole: it yields row blocks for kernels.dense.

    Its values are make_weight's, which repeat with period POOL_SIZE; so one scaled
    copy of the pool (8 MB) holds every block as a contiguous slice, and a 400 MB
    weight costs one 8 MB pass instead of 400 MB of page faults and writes.
    """

    dtype = np.dtype(kernels.DTYPE)
    ndim = 2

    def __init__(self, node: Node, name: str, seed: int):
        self.node, self.name, self.seed = node, name, seed
        self.shape = node.weights[name].shape
        self.size = prod(self.shape)
        self.seconds = 0.0  # spent scaling the pool

    def row_blocks(self):
        """Yield (row slice, read-only block) covering every row once, in order."""
        start = time.perf_counter()
        offset, centre, spread = _pattern(self.node, self.name)
        scaled = _pool(self.seed) * spread
        if centre:
            scaled += centre
        scaled.flags.writeable = False
        self.seconds += time.perf_counter() - start
        rows, cols = self.shape
        step = _block_rows(self.shape)
        for r0 in range(0, rows, step):
            r1 = min(rows, r0 + step)
            at = (offset + r0 * cols) % POOL_SIZE
            yield slice(r0, r1), scaled[at : at + (r1 - r0) * cols].reshape(r1 - r0, cols)

    def __array__(self, dtype=None, copy=None):
        whole = make_weight(self.node, self.name, self.seed)
        return whole if dtype is None else whole.astype(dtype)


class TransposedWeight:
    """A TiledWeight read transposed: its row blocks are this weight's column blocks, for kernels.dense."""

    def __init__(self, tiled: TiledWeight):
        self.tiled = tiled
        self.shape = tiled.shape[::-1]
        self.size = tiled.size
        self.dtype = tiled.dtype
        self.ndim = 2

    @property
    def seconds(self) -> float:
        return self.tiled.seconds

    def column_blocks(self):
        """Yield (column slice, read-only block) covering every column once, in order."""
        for rows, block in self.tiled.row_blocks():
            yield rows, block.T

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.tiled, dtype=dtype).T


class Weights(Mapping):
    """A layer's declared weights, created on first read; records what forward() read.

    given, if set, is a weight source: given(layer name, weight name) returns the array
    to use (a model file's own weights) or None for a seeded random one.
    """

    def __init__(self, node: Node, seed: int, given=None):
        self.node = node
        self.seed = seed
        self.given = given
        self.arrays: dict = {}
        self.sizes: dict[str, int] = {}  # elements of each weight read
        self.params = [0, 0]  # (trainable, non-trainable) elements read, set by settle()
        self.created = 0.0  # seconds spent creating whole arrays

    @property
    def seconds(self) -> float:
        """Time spent creating weights, including the row blocks of tiled ones."""
        return self.created + sum(
            a.seconds for a in self.arrays.values() if isinstance(a, (TiledWeight, TransposedWeight))
        )

    def __getitem__(self, name):
        if name not in self.node.weights:
            declared = ", ".join(self.node.weights) or "none"
            raise KeyError(f"{name!r} is not a declared weight of this layer (declared: {declared})")
        if name not in self.arrays:
            # a shared weight is its owner's array (transposed where declared so), counted at the owner
            node, source, transposed = self.node.shared.get(name, (self.node, name, False))
            start = time.perf_counter()
            declared = node.weights[source]
            array = None if self.given is None else self.given(node.name, source)
            if array is not None:
                if tuple(array.shape) != declared.shape:
                    raise ValueError(
                        f"weight {source!r} is given with shape {tuple(array.shape)}, declared {declared.shape}"
                    )
            elif _tiled(declared.shape):
                array = TiledWeight(node, source, self.seed)
            else:
                array = make_weight(node, source, self.seed)
            if transposed:
                array = TransposedWeight(array) if isinstance(array, TiledWeight) else array.T
            self.arrays[name] = array
            self.created += time.perf_counter() - start
            if name not in self.node.shared:
                self.sizes[name] = array.size
        return self.arrays[name]

    def __contains__(self, name):
        return name in self.node.weights  # asking is not reading

    def __iter__(self):
        return iter(self.node.weights)

    def __len__(self):
        return len(self.node.weights)

    def settle(self, statistics) -> None:
        """Split the elements read into (trainable, non-trainable); statistics by how the kernels used them."""
        # an array a kernel consumed as running statistics is non-trainable whatever the layer declared;
        # any other array is as declared (a frozen weight is a training choice no execution can see)
        used = {n for n, a in self.arrays.items() if any(a is s for s in statistics)}
        fixed = sum(size for n, size in self.sizes.items() if n in used or not self.node.weights[n].trainable)
        self.params = [sum(self.sizes.values()) - fixed, fixed]

    def drop(self) -> None:
        """Free the arrays; the counts of what was read and the creation time stay."""
        self.created = self.seconds
        self.arrays.clear()


# ---------------------------------------------------------------- memory


def _bytes(shape, batch=1) -> int:
    return ITEMSIZE * batch * prod(shape)


def estimate_peak(graph: Graph, batch: int = 1) -> tuple[int, Node]:
    """Largest working set in bytes, and the layer where it occurs.

    A layer's working set is every activation still alive (graph.live_elements: its output
    included), one more output-sized temporary, its weights, and the scratch buffers held so
    far (each role's buffer only grows during a run; each layer states its own in
    Layer.scratch), on top of BASE_BYTES for the process.
    """
    held: dict[str, int] = {}
    peak, where = BASE_BYTES, graph.nodes[0]
    for node, live in zip(graph.nodes, live_elements(graph)):
        for role, size in node.layer.scratch(node.in_shapes, node.shape, batch, kernels).items():
            held[role] = max(held.get(role, 0), size)
        # a tiled weight is never whole: its blocks are views of one scaled copy of the pool
        weights = sum(
            2 * POOL_SIZE * ITEMSIZE if _tiled(s) else _bytes(s) for s in (w.shape for w in node.weights.values())
        )
        need = BASE_BYTES + ITEMSIZE * batch * live + _bytes(node.shape, batch) + weights + sum(held.values())
        if need > peak:
            peak, where = need, node
    return peak, where


_UNITS = {"": 1, "b": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


MAX_BYTES = 2**64  # the whole 64-bit address space: no machine has more
TOO_LARGE = "{max_memory} must be at most 16 EiB (2^64 bytes). Received: {text}"


def parse_bytes(text: str) -> int:
    """'4GiB', '512 MiB', '1.5G', '2GB' or a plain number of bytes -> bytes (K, M, G, T are binary)."""
    text = str(text)
    shown = text if len(text) <= 40 else text[:37] + "..."
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*", text, re.IGNORECASE)
    if not match:
        raise RunError.about(
            "max_memory", "{max_memory} takes a size such as 4GiB, 512MiB or 1.5G. Received: {text}", text=shown
        )
    number, unit = match.groups()
    whole, _, decimals = number.partition(".")
    whole = whole.lstrip("0") or "0"
    # 30 digits before the point are beyond 2^64 bytes in any unit, and 30 after it below one byte:
    # Fraction() never sees thousands of digits
    if len(whole) > 30:
        raise RunError.about("max_memory", TOO_LARGE, text=shown)
    size = int(Fraction(f"{whole}.{decimals[:30] or 0}") * _UNITS[unit.lower()])
    if size > MAX_BYTES:
        raise RunError.about("max_memory", TOO_LARGE, text=shown)
    return size


def check_memory(graph: Graph, batch: int, max_memory: int | None, advice: str | None = None) -> int:
    """Estimated peak bytes; raises RunError when it is above max_memory.

    advice ends the message: what the caller's user can change (the command line names its own options).
    """
    peak, node = estimate_peak(graph, batch)
    if max_memory is not None and peak > max_memory:
        raise RunError(
            f"running {graph.name} at batch {batch} needs about {fmt_bytes(peak)} at its peak "
            f"(layer {node.index} '{node.name}'), more than the limit of {fmt_bytes(max_memory)}. "
            f"{advice or 'Use a smaller batch or input shape, or a higher memory limit.'} Received: batch={batch}"
        )
    return peak


def _check_seed(seed) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise RunError(f"the seed must be an integer >= 0. Received: seed={seed!r}")


# ---------------------------------------------------------------- execution


@dataclass
class LayerRun:
    """One layer's figures as run, beside the analyzer's."""

    index: int
    name: str
    type: str
    batch: int
    expected_shape: tuple
    expected_trainable: int
    expected_non_trainable: int
    expected_macs: int
    shape: tuple | None = None  # output shape without the batch axis; None if it did not run
    trainable: int = 0  # elements of the trainable weight arrays read
    non_trainable: int = 0
    metered_macs: int = 0  # over the whole batch
    error: str | None = None
    seconds: float = 0.0  # forward() time, weight creation excluded
    weight_seconds: float = 0.0

    @property
    def params(self) -> int:
        return self.trainable + self.non_trainable

    @property
    def expected_params(self) -> int:
        return self.expected_trainable + self.expected_non_trainable

    @property
    def macs(self) -> int | Fraction:
        """Metered MACs per sample."""
        q = Fraction(self.metered_macs, self.batch)
        return q.numerator if q.denominator == 1 else q

    @property
    def shape_ok(self) -> bool:
        return self.error is None and self.shape == self.expected_shape

    @property
    def params_ok(self) -> bool:
        return self.error is None and (self.trainable, self.non_trainable) == (
            self.expected_trainable,
            self.expected_non_trainable,
        )

    @property
    def macs_ok(self) -> bool:
        return self.error is None and self.metered_macs == self.batch * self.expected_macs

    @property
    def ok(self) -> bool:
        return self.shape_ok and self.params_ok and self.macs_ok


@dataclass
class RunResult:
    """Every layer's run beside the analysis, with the overall verdict."""

    name: str
    seed: int
    batch: int
    layers: list[LayerRun] = field(default_factory=list)
    peak_estimate: int = 0  # bytes
    activation_peak: int = 0  # bytes of activation arrays alive at once, at most, as run
    activation_estimate: int = 0  # the same from shapes alone (flopcount.memory, float32)
    max_rss: int | None = None  # the process's resident peak in bytes, where the system says

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.layers)

    @property
    def mismatches(self) -> list[LayerRun]:
        return [r for r in self.layers if not r.ok]

    @property
    def seconds(self) -> float:
        """Time in forward() over all layers (graph execution), weight creation excluded."""
        return sum(r.seconds for r in self.layers)

    @property
    def weight_seconds(self) -> float:
        return sum(r.weight_seconds for r in self.layers)


def _inputs_for(graph: Graph, batch: int, seed: int) -> dict[int, np.ndarray]:
    out = {}
    for node in graph.nodes:
        if node.layer.source:
            rng = np.random.default_rng((seed, node.index))
            if node.tokens is None:
                out[node.index] = rng.standard_normal((batch, *node.shape), dtype=kernels.DTYPE)
            else:  # random valid token ids
                out[node.index] = rng.integers(0, node.tokens, (batch, *node.shape), dtype=kernels.TOKEN_DTYPE)
    return out


def _execute(graph: Graph, inputs: dict, seed: int, keep=(), on_layer=None, weights=None, held=None):
    """Run every node in order; calls on_layer(node, output or None, Weights, meter, seconds, error).

    weights is a weight source (see Weights), by default the one a model file's spec carries.
    held, a list, receives per layer the bytes of the activation arrays alive while it ran (its output included).
    Returns the outputs of the nodes in keep.
    """
    given = graph.spec.weights if weights is None else weights
    # an overflow or NaN in the values is no finding of shapes, params or MACs, and NumPy's warnings about it only noise
    batch = next(iter(inputs.values())).shape[0] if inputs else 1
    with kernels.reusing_buffers(), kernels.batch_of(batch), np.errstate(all="ignore"):
        return _execute_nodes(graph, inputs, seed, set(keep), on_layer, given, held)


def _out_of_memory(exc: MemoryError, **where) -> RunError:
    return RunError(
        f"the machine ran out of memory ({exc}). Use a smaller batch or input shape.",
        **where,
    )


def _execute_nodes(graph, inputs, seed, keep, on_layer, given, held=None):
    last = last_use(graph)
    acts: dict[int, np.ndarray] = {}
    alive = 0  # bytes of the arrays in acts
    for node in graph.nodes:
        w = Weights(node, seed, given)
        out = error = None
        start = time.perf_counter()
        with kernels.metering() as meter:
            missing = [graph.nodes[i].name for i in node.inputs if i not in acts]
            if node.layer.source:
                out = inputs[node.index]
            elif missing:
                error = f"not run: input '{missing[0]}' did not run"
            else:
                try:
                    out = node.layer.forward([acts[i] for i in node.inputs], w, kernels)
                except MemoryError as exc:  # the machine's limit, not a finding about the layer
                    raise _out_of_memory(exc, layer=node.index, name=node.name) from None
                except Exception as exc:  # a kernel's failure is a finding to report, not a crash
                    error = f"{type(exc).__name__}: {exc}"
        w.settle(meter.statistics)
        w.drop()
        seconds = time.perf_counter() - start - w.seconds
        if out is not None:
            acts[node.index] = out
            alive += out.nbytes
        if held is not None:
            held.append(alive)
        for i in freed_after(node, last):
            if i not in keep and i in acts:
                alive -= acts.pop(i).nbytes
        if on_layer is not None:
            on_layer(node, out, w, meter, seconds, error)
        out = None
    return {i: acts[i] for i in keep if i in acts}


def run_graph(
    graph: Graph,
    *,
    seed: int = 0,
    batch: int = 1,
    max_memory: int | None = 4 * 2**30,
    progress=None,
    advice: str | None = None,
    weights=None,
) -> RunResult:
    """Run a seeded random batch through the graph and compare every layer with the analysis.

    progress, if given, is called as progress(done, total, node) after each layer.
    weights is a weight source (see Weights); by default a model file's own weights, else random.
    Raises RunError before running when the seed is negative or the estimated peak memory
    is above max_memory (advice, if given, ends that message).
    """
    _check_seed(seed)
    peak = check_memory(graph, batch, max_memory, advice)
    result = RunResult(graph.name, seed, batch, peak_estimate=peak)
    total = len(graph.nodes)

    def record(node, out, w, meter, seconds, error):
        run = LayerRun(
            node.index,
            node.name,
            node.type,
            batch,
            expected_shape=node.shape,
            expected_trainable=node.trainable,
            expected_non_trainable=node.non_trainable,
            expected_macs=node.macs,
            trainable=w.params[0],
            non_trainable=w.params[1],
            metered_macs=meter.macs,
            error=error,
            seconds=seconds,
            weight_seconds=w.seconds,
        )
        if out is not None:
            shape = tuple(np.shape(out))
            if shape[:1] != (batch,):
                run.error = f"output of shape {shape} lost the batch axis of {batch}"
            else:
                run.shape = shape[1:]
        result.layers.append(run)
        if progress is not None:
            progress(len(result.layers), total, node)

    try:
        inputs = _inputs_for(graph, batch, seed)
    except MemoryError as exc:
        raise _out_of_memory(exc) from None
    held: list[int] = []
    _execute(graph, inputs, seed, on_layer=record, weights=weights, held=held)
    result.activation_peak = max(held, default=0)
    result.activation_estimate = estimate_memory(graph, batch).peak
    result.max_rss = _max_rss()
    return result


def _max_rss() -> int | None:
    """The process's largest resident set so far in bytes; None where the resource module is missing (Windows)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return None
    import sys

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024  # bytes on macOS, KiB on Linux


def forward(graph: Graph, x, *, seed: int = 0, keep=None, weights=None) -> dict[int, np.ndarray]:
    """Outputs of the nodes in keep (default: the last) for input x of shape (batch, *input shape).

    x is one array for a graph with one input layer, or {input node index: array}.
    Weights come from the weight source weights, or the model file the spec was imported
    from, or else depend only on seed and the layer, so two calls differ only where x does.
    Raises RunError if a layer fails or the seed is negative.
    """
    _check_seed(seed)
    sources = [n.index for n in graph.nodes if n.layer.source]
    inputs = dict(x) if isinstance(x, dict) else {sources[0]: x}
    missing = [graph.nodes[i].name for i in sources if i not in inputs]
    if missing:
        raise RunError(
            f"the graph has {len(sources)} input layers; pass {{node index: array}} for each. "
            f"Received: no array for {', '.join(missing)}"
        )
    for i in sources:
        node = graph.nodes[i]
        array = np.asarray(inputs[i], dtype=kernels.DTYPE if node.tokens is None else None)
        if array.shape[1:] != node.shape:
            raise RunError(
                f"input '{node.name}' needs shape (batch, {', '.join(map(str, node.shape))}). "
                f"Received: shape={list(array.shape)}"
            )
        if node.tokens is not None:
            if not np.issubdtype(array.dtype, np.integer) or (
                array.size and not 0 <= array.min() <= array.max() < node.tokens
            ):
                raise RunError(
                    f"input '{node.name}' holds token ids, integers in [0, {node.tokens}). "
                    f"Received: {array.dtype} values from {array.min()} to {array.max()}"
                )
            array = array.astype(kernels.TOKEN_DTYPE, copy=False)
        inputs[i] = array
    keep = [graph.nodes[-1].index] if keep is None else list(keep)

    def fail_fast(node, out, w, meter, seconds, error):
        if error is not None:
            raise RunError(error, layer=node.index, name=node.name)

    return _execute(graph, inputs, seed, keep, on_layer=fail_fast, weights=weights)
