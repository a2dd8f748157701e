"""Receptive fields measured by execution: which input rows and columns reach each output.

One forward pass of a batch does it. Item 0 is a random input; item 1 + r is the same
input with row r poisoned (set to NaN in every column and channel), and the items
after those poison one column each. NaN spreads through every product and sum that
reads it, and through max, so an output position depends on input row r exactly when
its value in item 1 + r is NaN. The extent of those rows (last - first + 1) is the
receptive field the usual calculation gives, holes of dilation included; the distance
between the first rows of neighbouring outputs is the jump.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ShapeError
from .graph import Graph


@dataclass(frozen=True)
class MeasuredRF:
    """Receptive field and jump of one node measured by execution, per spatial axis."""

    rf: tuple[int, int]  # the largest extent over output positions whose field lies inside the input
    jump: tuple[int, int] | None  # None when no two neighbouring outputs lie inside
    clipped: bool  # True when no output position's field lies wholly inside the input


def probe_size(rf, jump) -> int:
    """An input side on which neighbouring outputs' receptive fields lie wholly inside the input.

    Fields of neighbouring outputs start one jump apart, so rf + 2 x jump + 1 rows leave
    two of them clear of the border rows; one more jump and row spare some margin.
    """
    return max(rf) + 3 * max(jump) + 2


def measure_receptive_fields(
    graph: Graph, nodes=None, *, seed: int = 0, max_memory: int | None = 4 * 2**30
) -> dict[int, MeasuredRF]:
    """Measure the receptive field of each spatial node in nodes (default: all) by execution.

    The batch is 1 + H + W inputs; raises the runner's RunError when that would need
    more than max_memory.
    """
    import numpy as np

    from .runner import check_memory, forward

    shape = graph.nodes[0].shape
    if len(shape) != 3:
        raise ShapeError(f"receptive fields are measured on (H, W, C) inputs; this input has shape {shape}.")
    if nodes is None:
        nodes = [n.index for n in graph.nodes[1:] if len(n.shape) == 3]
    for i in nodes:
        if len(graph.nodes[i].shape) != 3:
            raise ShapeError(f"layer {i} '{graph.nodes[i].name}' has no spatial output; its receptive field "
                             "cannot be measured.")
    h, w, c = shape
    check_memory(graph, 1 + h + w, max_memory)
    rng = np.random.default_rng(seed)
    x = np.repeat(rng.standard_normal((1, h, w, c), dtype=np.float32), 1 + h + w, axis=0)
    for r in range(h):
        x[1 + r, r, :, :] = np.nan
    for col in range(w):
        x[1 + h + col, :, col, :] = np.nan
    with np.errstate(all="ignore"):
        outs = forward(graph, x, seed=seed, keep=list(nodes))
    result = {}
    for i in nodes:
        poisoned = np.isnan(outs[i])  # (1 + h + w, Ho, Wo, Co)
        if poisoned[0].any():
            raise ShapeError(f"layer {i} '{graph.nodes[i].name}' gives NaN on a clean input; cannot measure.")
        rows = poisoned[1 : 1 + h].any(axis=(2, 3)).T  # (Ho, h): output row reads input row
        cols = poisoned[1 + h :].any(axis=(1, 3)).T  # (Wo, w)
        (rf_h, jump_h), (rf_w, jump_w) = _extent(rows, h), _extent(cols, w)
        clipped = rf_h is None or rf_w is None
        result[i] = MeasuredRF(
            (rf_h or 0, rf_w or 0),
            None if clipped or jump_h is None or jump_w is None else (jump_h, jump_w),
            clipped,
        )
    return result


def _extent(reads, size):
    """(largest extent, jump) over outputs whose dependence stays off the input's border rows."""
    spans = []
    for row in reads:
        hits = row.nonzero()[0]
        if len(hits) and hits[0] > 0 and hits[-1] < size - 1:
            spans.append((int(hits[0]), int(hits[-1])))
        else:
            spans.append(None)
    inside = [s for s in spans if s]
    if not inside:
        return None, None
    rf = max(hi - lo + 1 for lo, hi in inside)
    jumps = [b[0] - a[0] for a, b in zip(spans, spans[1:]) if a and b]
    return rf, (max(jumps) if jumps else None)


def verify_receptive_fields(graph: Graph, nodes=None, *, seed: int = 0) -> list[tuple[int, tuple, tuple, MeasuredRF]]:
    """(node index, computed rf, computed jump, measured) for each spatial node."""
    measured = measure_receptive_fields(graph, nodes, seed=seed)
    return [(i, graph.nodes[i].rf, graph.nodes[i].jump, m) for i, m in measured.items()]
