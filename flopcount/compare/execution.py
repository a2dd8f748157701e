"""Execution checks: both sides run with the NumPy runner, and a block's receptive field measured."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ..errors import FlopcountError
from ..graph import Graph
from .blocks import BLOCKS, Sizes

if TYPE_CHECKING:
    from .verdicts import Comparison, Side


@dataclass
class RunCheck:
    """What the NumPy runner counted for one side, against the analyzer."""

    ran: bool
    note: str = ""  # why it did not run, when it did not
    params: int | None = None
    macs: int | None = None
    shapes_ok: bool | None = None
    params_ok: bool | None = None
    macs_ok: bool | None = None

    @property
    def ok(self) -> bool | None:
        if not self.ran:
            return None
        return bool(self.shapes_ok and self.params_ok and self.macs_ok)


@dataclass
class RFCheck:
    """The receptive field of a side's output measured by execution, against the computed one."""

    computed: tuple[int, ...]
    jump: tuple[int, ...]
    measured: tuple[int, ...] | None = None
    measured_jump: tuple[int, ...] | None = None
    probe_size: int | None = None  # the D_F the probe ran at
    note: str = ""

    @property
    def ok(self) -> bool | None:
        if self.measured is None:
            return None
        return self.measured == self.computed and (self.measured_jump in (None, self.jump))


# ---------------------------------------------------------------- execution


# Executing a side only confirms what the analysis settles, so it stops short of long work:
# budgets of multiply-accumulates (the whole batch), checked from the analysis before anything
# runs. A run of 4 x 10^9 takes about a second of the runner's GEMMs on a 2-core machine, far
# above the paper's layers (4.6 x 10^8 at most). The receptive-field probe runs few channels,
# where a kernel's cost is its window walked tap by tap, so it gets less.
MAX_RUN_MACS = 4 * 10**9
MAX_PROBE_MACS = 10**8


def run_sides(
    cmp: Comparison,
    *,
    seed: int = 0,
    verify_rf: bool = True,
    max_memory: int = 4 * 2**30,
    max_macs: int = MAX_RUN_MACS,
    max_probe_macs: int = MAX_PROBE_MACS,
) -> Comparison:
    """Execute both sides with the NumPy runner and record what it counted.

    A side the runner refuses (its memory estimate is over the limit), or whose run would
    take more than max_macs multiply-accumulates (its probe more than max_probe_macs), gets
    a note instead of figures; the analysis stands either way.
    """
    from .. import runner

    for side in (cmp.a, cmp.b):
        lower = "Lower D_F or the channels to run it." if side.kind == "block" else ""
        peak, node = runner.estimate_peak(side.graph)
        if peak > max_memory:
            side.run = RunCheck(
                False,
                f"running it would need about {runner.fmt_bytes(peak)} at its peak (layer '{node.name}'), over "
                f"the runner's limit of {runner.fmt_bytes(max_memory)}; the analysis above stands. {lower}".rstrip(),
            )
            continue
        if side.macs > max_macs:
            side.run = RunCheck(
                False,
                f"running it would take {side.macs:,} MACs, over {_budget(max_macs)}; "
                f"the analysis above stands. {lower}".rstrip(),
            )
            continue
        try:
            result = runner.run_graph(side.graph, seed=seed, max_memory=max_memory)
        except FlopcountError as err:
            side.run = RunCheck(False, str(err))
            continue
        side.run = _run_check(side.graph, result)
        if verify_rf and side.kind == "block":
            side.rf_check = _block_rf_check(side, seed, max_memory, max_probe_macs)
    return cmp


def _budget(max_macs: int) -> str:
    return f"the budget of {max_macs:,} MACs for an execution check"


def _run_check(graph: Graph, result) -> RunCheck:
    """Totals of what the runner read and metered, checked against the analyzer's."""
    params = sum(r.params for r in result.layers)
    macs = sum(r.macs for r in result.layers)
    return RunCheck(
        True,
        params=params,
        macs=macs,
        shapes_ok=all(r.shape_ok for r in result.layers),
        params_ok=params == graph.totals.params and all(r.params_ok for r in result.layers),
        macs_ok=macs == graph.totals.macs and all(r.macs_ok for r in result.layers),
    )


def _block_rf_check(side: Side, seed: int, max_memory: int, max_macs: int = MAX_PROBE_MACS) -> RFCheck:
    """Measure the block's receptive field by execution on a small input of the same block.

    The probe runs a batch of 1 + 2 D_F inputs through the block, and D_F grows with D_K,
    so its work grows as D_K^5: it runs with few channels (they do not move a receptive
    field) and only within max_macs.
    """
    from ..receptive import measure_receptive_fields, probe_size

    node = side.output
    check = RFCheck(computed=tuple(node.rf), jump=tuple(node.jump))
    if not node.spatial:
        check.note = "the output is not spatial"
        return check
    # the block's receptive field does not depend on D_F, so probe it on an input just large enough
    size = probe_size(node.rf, node.jump)
    small = replace(_few_channels(side.sizes), DF=size)
    try:
        graph, _, _ = BLOCKS[side.label].build(small)
        work = graph.totals.macs * (1 + 2 * size)  # the probe's batch: one clean input, one per poisoned row and column
        if work > max_macs:
            check.note = f"not measured: the probe would take {work:,} MACs, over {_budget(max_macs)}"
            return check
        last = len(graph.nodes) - 1
        measured = measure_receptive_fields(graph, [last], seed=seed, max_memory=max_memory)[last]
    except FlopcountError as err:
        check.note = f"not measured: {err}"
        return check
    check.probe_size = size
    if measured.clipped:  # pragma: no cover - probe_size leaves room on every side
        check.note = f"not measured: the {size}×{size} probe input is smaller than the receptive field"
        return check
    check.measured, check.measured_jump = measured.rf, measured.jump
    return check


def _few_channels(s: Sizes) -> Sizes:
    """The same block with 4, 8 and 12 channels in place of M, N and C, equal ones kept equal.

    A receptive field depends on kernels, strides and the block's structure, which the
    channels change only through equalities (an identity or a projection shortcut) and
    divisibility by 4 (the bottleneck's N/4); both are kept. t matters only as t = 1 or not.
    """
    given = sorted({v for v in (s.M, s.N, s.C) if v is not None})
    small = {v: 4 * (i + 1) for i, v in enumerate(given)}
    return replace(s, M=small.get(s.M), N=small.get(s.N), C=small.get(s.C), t=1 if s.t == 1 else 2)
