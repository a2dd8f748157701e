"""What `analyze` and `run` report: tables (flopcount.table) for people and CSV, JSON for machines.

Builds the figures' tables and JSON; flopcount.render draws the tables. Nothing here prints.
"""

from __future__ import annotations

import json
from fractions import Fraction

from .expr import fixed, plain
from .graph import Graph, Totals
from .layers import fmt_shape
from .table import BAD, GOOD, GRID, NUMBER, Column, Line, Span, Table, line


def human(n: int) -> str:
    """138357544 -> '138.36 M', in integer arithmetic (no float to overflow); exact integers stay beside it."""
    for unit, size in (("T", 10**12), ("G", 10**9), ("M", 10**6), ("K", 10**3)):
        if abs(n) >= size:
            return f"{fixed(Fraction(n, size))} {unit}"
    return str(n)


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "-"


def fmt_rf(rf) -> str:
    """One figure when every spatial axis agrees, else one per axis (7x3); '-' without spatial axes."""
    if not rf:
        return "-"
    return str(rf[0]) if len(set(rf)) == 1 else "x".join(str(v) for v in rf)


def type_text(n) -> str:
    """The type, and whose weights a layer uses when it shares them: 'dense (weights of wte)'."""
    return f"{n.type} (weights of {', '.join(n.owners)})" if n.shared else n.type


def graph_dict(graph: Graph) -> dict:
    """Every per-layer figure and the totals, as exact integers."""
    layers = []
    for n in graph.nodes:
        layers.append(
            {
                "index": n.index,
                "name": n.name,
                "type": n.type,
                "inputs": [graph.nodes[i].name for i in n.inputs],
                "shape": list(n.shape),
                "params": n.params,
                "trainable": n.trainable,
                "non_trainable": n.non_trainable,
                "macs": n.macs,
                "other_ops": n.other_ops,
                "receptive_field": list(n.rf),
                "jump": list(n.jump),
                "block": n.group,
                "weights_of": list(n.owners),  # layers whose weights this one uses, counted there
            }
        )
    return {
        "name": graph.name,
        "variables": {k: plain(v) for k, v in graph.spec.variables.items()},
        "layers": layers,
        "totals": graph.totals.as_dict(),
    }


def grouped(graph: Graph, by: str) -> list[tuple[str, int, Totals]]:
    """Totals per layer type or per top-level block, in order of first appearance."""
    groups: dict[str, tuple[int, Totals]] = {}
    for n in graph.nodes:
        key = n.type if by == "type" else (n.group or n.name)
        count, totals = groups.get(key, (0, Totals()))
        totals.add(n)
        groups[key] = (count + 1, totals)
    return [(k, c, t) for k, (c, t) in groups.items()]


def layer_table(graph: Graph, flops: bool = False) -> Table:
    """One row per layer: index, name, type, output shape, params, MACs, share of MACs, RF (and other ops, FLOPs)."""
    total = graph.totals.macs
    columns = [Column("index", "#", NUMBER), Column("name", "name"), Column("type", "type"),
               Column("shape", "output shape"), Column("params", "params", NUMBER), Column("macs", "MACs", NUMBER),
               Column("mac_share", "% MACs", NUMBER), Column("receptive_field", "RF", NUMBER)]
    if flops:
        columns[7:7] = [Column("other_ops", "other ops", NUMBER), Column("flops", "FLOPs", NUMBER)]
    table = Table(columns, title=title(graph))
    for n in graph.nodes:
        cells = [n.index, n.name, type_text(n), fmt_shape(n.shape), n.params, n.macs, percent(n.macs, total)]
        cells += [n.other_ops, 2 * n.macs + n.other_ops] if flops else []
        table.add(*cells, fmt_rf(n.rf))
    return table


def group_table(graph: Graph, by: str, flops: bool = False) -> Table:
    """One row per layer type or top-level block, with its share of params and MACs."""
    t = graph.totals
    columns = [Column(by, by), Column("layers", "layers", NUMBER), Column("params", "params", NUMBER),
               Column("param_share", "% params", NUMBER), Column("macs", "MACs", NUMBER),
               Column("mac_share", "% MACs", NUMBER)]
    if flops:
        columns += [Column("other_ops", "other ops", NUMBER), Column("flops", "FLOPs", NUMBER)]
    table = Table(columns, title=title(graph))
    for key, count, g in grouped(graph, by):
        cells = [key, count, g.params, percent(g.params, t.params), g.macs, percent(g.macs, t.macs)]
        table.add(*cells, *([g.other_ops, g.flops] if flops else []))
    return table


def title(graph: Graph) -> str:
    """The spec's name and its variables' values: 'mobilenet_v1 (alpha=0.75, resolution=224)'."""
    if not graph.spec.variables:
        return graph.name
    return graph.name + " (" + ", ".join(f"{k}={plain(v)}" for k, v in graph.spec.variables.items()) + ")"


def summary_lines(graph: Graph, flops: bool = False) -> list[tuple[str, int]]:
    t = graph.totals
    lines = [
        ("Total params", t.params),
        ("Trainable params", t.trainable),
        ("Non-trainable params", t.non_trainable),
        ("MACs", t.macs),
        ("Other ops", t.other_ops),
    ]
    if flops:
        lines.append(("FLOPs (2 x MACs + other ops)", t.flops))
    return lines


def totals_table(graph: Graph, flops: bool = False) -> Table:
    """The totals, each as a rounded figure beside the exact one."""
    columns = [Column("total", "total"), Column("value", "value", NUMBER), Column("exact", "exact", NUMBER)]
    table = Table(columns, frame=GRID)
    for label, value in summary_lines(graph, flops):
        table.add(label, human(value), value)
    return table


def analysis_blocks(graph: Graph, by: str | None = None, flops: bool = False) -> list:
    """What `analyze` shows: the per-layer (or grouped) table, then the totals."""
    main = group_table(graph, by, flops) if by else layer_table(graph, flops)
    return [main, totals_table(graph, flops)]


def csv_table(graph: Graph, by: str | None = None) -> Table:
    """Every figure, FLOPs included, one row per layer (or group) and no total row: a column sums to its total."""
    figures = ["params", "trainable", "non_trainable", "macs", "other_ops", "flops"]
    if by:
        table = Table([Column(by, by), *(Column(k, k, NUMBER) for k in ["layers"] + figures)])
        for key, count, t in grouped(graph, by):
            table.add(key, count, t.params, t.trainable, t.non_trainable, t.macs, t.other_ops, t.flops)
        return table
    table = Table([Column("index", "index", NUMBER), Column("name", "name"), Column("type", "type"), Column("shape", "shape"),
                   *(Column(k, k, NUMBER) for k in figures), Column("receptive_field", "receptive_field")])
    for n in graph.nodes:
        table.add(n.index, n.name, n.type, "x".join(map(str, n.shape)), n.params, n.trainable, n.non_trainable,
                  n.macs, n.other_ops, 2 * n.macs + n.other_ops, fmt_rf(n.rf))
    return table


def to_json(graph: Graph, by: str | None = None) -> str:
    data = graph_dict(graph)
    if by:
        data["groups"] = [
            {by: key, "layers": count, **t.as_dict()} for key, count, t in grouped(graph, by)
        ]
    return json.dumps(data, indent=2)


# ---------------------------------------------------------------- run results (flopcount run, analyze --verify)

MARK = {True: "✓", False: "✗"}


def _fmt_params(trainable, non_trainable) -> str:
    return f"{trainable + non_trainable:,}" + (f" ({non_trainable:,} non-trainable)" if non_trainable else "")


def _fmt_macs(n) -> str:
    return f"{n:,}" if isinstance(n, int) else f"{float(n):,.2f}"


def run_figures(r) -> list[tuple[str, str, str, bool]]:
    """A layer run's (what, as run, as analyzed, agree) for shape, params and MACs."""
    ran_shape = "did not run" if r.shape is None else fmt_shape(r.shape)
    return [
        ("shape", ran_shape, fmt_shape(r.expected_shape), r.shape_ok),
        ("params", _fmt_params(r.trainable, r.non_trainable), _fmt_params(r.expected_trainable, r.expected_non_trainable), r.params_ok),
        ("MACs", _fmt_macs(r.macs), _fmt_macs(r.expected_macs), r.macs_ok),
    ]


def verdict_lines(result) -> list[str]:
    """One line when everything agrees; else one line per disagreeing figure, naming the layer and both figures."""
    n = len(result.layers)
    if result.ok:
        params = sum(r.params for r in result.layers)
        macs = sum(r.macs for r in result.layers)
        return [f"✓ All {n} layers agree with the analysis: shapes, {params:,} params and {_fmt_macs(macs)} MACs."]
    bad = result.mismatches
    lines = [f"✗ {len(bad)} of {n} layers disagree with the analysis:"]
    for r in bad:
        where = f"  layer {r.index} '{r.name}' ({r.type})"
        if r.error:
            lines.append(f"{where}: {r.error}")
            continue
        for what, ran, analyzed, agree in run_figures(r):
            if not agree:
                lines.append(f"{where}: {what}: analyzer {analyzed}, run {ran}")
    return lines


def verdict_blocks(result) -> list[Line]:
    """The verdict as lines: the first green when everything agrees, red otherwise."""
    first, *rest = verdict_lines(result)
    return [line(Span(first, GOOD if result.ok else BAD))] + [line(text) for text in rest]


def _run_cell(ran, analyzed, agree, mark_first):
    figure = ran if agree else f"{ran} (analyzer {analyzed})"
    mark = Span(MARK[agree], GOOD if agree else BAD)
    return (mark, " ", figure) if mark_first else (figure, " ", mark)


def run_blocks(result) -> list:
    """What `run` shows: per layer ✓/✗ for shape, params and MACs as run, the timing, then the verdict."""
    columns = [Column("index", "#", NUMBER), Column("name", "name"), Column("type", "type"),
               Column("shape", "output shape"), Column("params", "params read", NUMBER),
               Column("macs", "MACs metered", NUMBER)]
    table = Table(columns, title=f"{result.name}: run with NumPy (batch {result.batch}, seed {result.seed})")
    for r in result.layers:
        shape, params, macs = run_figures(r)
        table.add(r.index, r.name, r.type, _run_cell(*shape[1:], True), _run_cell(*params[1:], False),
                  _run_cell(*macs[1:], False))
    table.footer.append(line(f"forward {result.seconds:.3f} s, weights {result.weight_seconds:.3f} s, "
                             f"estimated peak memory {result.peak_estimate / 2**20:,.1f} MiB"))
    return [table, *verdict_blocks(result)]


def run_to_json(result) -> str:
    """The run's per-layer figures beside the analyzer's, exact integers, and the verdict."""

    layers = []
    for r in result.layers:
        layers.append(
            {
                "index": r.index,
                "name": r.name,
                "type": r.type,
                "shape": {"run": None if r.shape is None else list(r.shape), "analyzer": list(r.expected_shape), "ok": r.shape_ok},
                "params": {
                    "run": {"trainable": r.trainable, "non_trainable": r.non_trainable},
                    "analyzer": {"trainable": r.expected_trainable, "non_trainable": r.expected_non_trainable},
                    "ok": r.params_ok,
                },
                "macs": {"run": plain(r.macs), "analyzer": r.expected_macs, "ok": r.macs_ok},
                "error": r.error,
                "seconds": round(r.seconds, 6),
            }
        )
    data = {
        "name": result.name,
        "seed": result.seed,
        "batch": result.batch,
        "ok": result.ok,
        "mismatches": [r.name for r in result.mismatches],
        "layers": layers,
        "totals": {
            "params": {"run": sum(r.params for r in result.layers), "analyzer": sum(r.expected_params for r in result.layers)},
            "macs": {"run": plain(sum(r.macs for r in result.layers)), "analyzer": sum(r.expected_macs for r in result.layers)},
        },
        "forward_seconds": round(result.seconds, 6),
        "weight_seconds": round(result.weight_seconds, 6),
        "peak_memory_estimate": result.peak_estimate,
    }
    return json.dumps(data, indent=2)
