"""Receptive fields measured by execution: which input positions along each axis reach each output.

One forward pass of a batch does it. Item 0 is a random input; item 1 + r is the same
input with row r poisoned (set to NaN in every column and channel), and the items
after those poison one column each (and, for a (D, H, W, C) input, one slice of each
spatial axis in turn; for (L, C), one position). NaN spreads through every product and sum that
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

    rf: tuple[int, ...]  # the largest extent over output positions whose field lies inside the input
    jump: tuple[int, ...] | None  # None when no two neighbouring outputs lie inside
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

    The input is channels last with 1 to 3 (or more) spatial axes; the batch is 1 plus
    the sum of their sizes (1 + H + W for an image). Raises the runner's RunError when
    that would need more than max_memory.
    """
    import numpy as np

    from .runner import check_memory, forward

    source = graph.nodes[0]
    shape = source.shape
    if not source.spatial:
        raise ShapeError(
            f"receptive fields are measured on inputs with spatial axes such as (H, W, C); "
            f"this input has shape {shape}."
        )
    if nodes is None:
        nodes = [n.index for n in graph.nodes[1:] if n.spatial]
    for i in nodes:
        if not graph.nodes[i].spatial:
            raise ShapeError(
                f"layer {i} '{graph.nodes[i].name}' has no spatial output; its receptive field cannot be measured."
            )
    sizes = shape[:-1]
    batch = 1 + sum(sizes)
    check_memory(graph, batch, max_memory)
    rng = np.random.default_rng(seed)
    x = np.repeat(rng.standard_normal((1, *shape), dtype=np.float32), batch, axis=0)
    starts = [1 + sum(sizes[:axis]) for axis in range(len(sizes))]  # first batch item poisoning each axis
    for axis, (start, size) in enumerate(zip(starts, sizes)):
        for r in range(size):
            # item start + r has position r of this axis poisoned everywhere else
            x[(start + r, *(slice(None),) * axis, r)] = np.nan
    with np.errstate(all="ignore"):
        outs = forward(graph, x, seed=seed, keep=list(nodes))
    result = {}
    for i in nodes:
        poisoned = np.isnan(outs[i])  # (batch, *O, C_out)
        if poisoned[0].any():
            raise ShapeError(f"layer {i} '{graph.nodes[i].name}' gives NaN on a clean input; cannot measure.")
        extents = []
        for axis, (start, size) in enumerate(zip(starts, sizes)):
            others = tuple(a for a in range(1, poisoned.ndim) if a != axis + 1)
            reads = poisoned[start : start + size].any(axis=others).T  # (O_axis, size): output position reads input r
            extents.append(_extent(reads, size))
        clipped = any(rf is None for rf, _ in extents)
        jumps = [jump for _, jump in extents]
        result[i] = MeasuredRF(
            tuple(rf or 0 for rf, _ in extents),
            None if clipped or None in jumps else tuple(jumps),
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
