"""Execution checks: both sides run with the NumPy runner, and a block's receptive field measured."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ..errors import FlopcountError
from ..graph import Graph
from .blocks import BLOCKS

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


def run_sides(cmp: Comparison, *, seed: int = 0, verify_rf: bool = True, max_memory: int = 4 * 2**30) -> Comparison:
    """Execute both sides with the NumPy runner and record what it counted.

    A side the runner refuses (its memory estimate is over the limit) gets a note
    instead of figures; the analysis stands either way.
    """
    from .. import runner

    for side in (cmp.a, cmp.b):
        peak, node = runner.estimate_peak(side.graph)
        if peak > max_memory:
            side.run = RunCheck(
                False,
                f"running it would need about {runner.fmt_bytes(peak)} at its peak (layer '{node.name}'), over "
                f"the runner's limit of {runner.fmt_bytes(max_memory)}; the analysis above stands. "
                + ("Lower --DF or the channels to run it." if side.kind == "block" else ""),
            )
            continue
        try:
            result = runner.run_graph(side.graph, seed=seed, max_memory=max_memory)
        except FlopcountError as err:
            side.run = RunCheck(False, str(err))
            continue
        side.run = _run_check(side.graph, result)
        if verify_rf and side.kind == "block":
            side.rf_check = _block_rf_check(side, seed, max_memory)
    return cmp


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


def _block_rf_check(side: Side, seed: int, max_memory: int) -> RFCheck:
    """Measure the block's receptive field by execution on a small input of the same block."""
    from ..receptive import measure_receptive_fields, probe_size

    node = side.output
    check = RFCheck(computed=tuple(node.rf), jump=tuple(node.jump))
    if not node.spatial:
        check.note = "the output is not spatial"
        return check
    # the block's receptive field does not depend on D_F, so probe it on an input just large enough
    size = probe_size(node.rf, node.jump)
    small = replace(side.sizes, DF=size)
    try:
        graph, _, _ = BLOCKS[side.label].build(small)
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
