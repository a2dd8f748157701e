"""What `analyze` and `run` report: tables (flopcount.table) for people and CSV, JSON for machines.

Builds the figures' tables and JSON; flopcount.render draws the tables. Nothing here prints.
"""

from __future__ import annotations

import json
from fractions import Fraction

from .expr import fixed, plain
from .graph import Graph, Totals
from .layers import fmt_shape
from .memory import DTYPES, Memory, estimate_memory, fmt_bytes
from .table import (
    BAD,
    CURVE,
    GOOD,
    GRID,
    NUMBER,
    Chart,
    Column,
    Line,
    Span,
    Table,
    line,
)


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


def memory_of(graph: Graph, memory: Memory | None) -> Memory:
    """The memory asked for, or that of one sample in float32."""
    return memory if memory is not None else estimate_memory(graph)


def scaled(totals: Totals, batch: int) -> Totals:
    """Totals for a batch: MACs and other ops scale with it, parameters do not."""
    return Totals(totals.trainable, totals.non_trainable, batch * totals.macs, batch * totals.other_ops)


def graph_dict(graph: Graph, counted=None, memory: Memory | None = None) -> dict:
    """Every per-layer figure and the totals, as exact integers (MACs and other ops for the whole batch);
    under a convention, its figures beside them."""
    memory = memory_of(graph, memory)
    batch = memory.batch
    layers = []
    for i, n in enumerate(graph.nodes):
        m = memory.layers[i]
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
                "macs": batch * n.macs,
                "other_ops": batch * n.other_ops,
                "activation_elements": m.elements,
                "activation_bytes": m.activation,
                "weight_bytes": m.weights,
                "live_activation_bytes": m.live,
                "kv_cache_bytes": m.cache,
                "receptive_field": list(n.rf),
                "jump": list(n.jump),
                "block": n.group,
                "weights_of": list(n.owners),  # layers whose weights this one uses, counted there
            }
        )
        if counted is not None:
            c = counted.counts[i]
            layers[-1]["convention"] = {"macs": c.macs, "params": c.params, "rule": c.rule}
    data = {
        "name": graph.name,
        "variables": {k: plain(v) for k, v in graph.spec.variables.items()},
        "batch": batch,
        "layers": layers,
        "totals": scaled(graph.totals, batch).as_dict(),
        "memory": memory.as_dict(),
    }
    if counted is not None:
        data["convention"] = convention_dict(counted)
    return data


def counted_under(graph: Graph, convention: str | None):
    """The graph counted under a convention (a Counted), or None for flopcount's own figures, the default."""
    return None if convention in (None, "flopcount") else graph.under(convention)


def convention_dict(counted) -> dict:
    """A convention's totals, what it is, and the rules that make it differ from the MACs."""
    c = counted.convention
    return {
        "name": c.name,
        "tool": c.tool,
        "figure": c.figure,
        "call": c.call,
        "params_counted": c.params,
        "macs": counted.macs,
        "params": counted.params,
        "differences": [
            {"type": t, "rule": rule, "layers": layers, "macs": diff}
            for t, rule, layers, diff in counted.contributions()
        ],
    }


def convention_lines(counted) -> list[Line]:
    """Below the totals: which tool the convention reproduces and where its figure differs from the MACs."""
    c = counted.convention
    counted_params = "trainable parameters" if c.params == "trainable" else "every parameter"
    lines = [line(f"{c.name}: {c.tool}. Its figure: {c.figure}; {counted_params}.")]
    contributions = counted.contributions()
    if not contributions:
        return lines + [line("It equals the MACs here.")]
    lines.append(line(f"It differs from the MACs by {counted.difference:+,}:"))
    lines += [
        line(f"  {diff:+,} {t}, {layers} layer{'s' * (layers != 1)}: {rule}") for t, rule, layers, diff in contributions
    ]
    return lines


def grouped(graph: Graph, by: str, batch: int = 1) -> list[tuple[str, int, Totals]]:
    """Totals per layer type or per top-level block, in order of first appearance (MACs for the batch)."""
    groups: dict[str, tuple[int, Totals]] = {}
    for n in graph.nodes:
        key = group_key(n, by)
        count, totals = groups.get(key, (0, Totals()))
        totals.add(n)
        groups[key] = (count + 1, totals)
    return [(k, c, scaled(t, batch)) for k, (c, t) in groups.items()]


def convention_columns(counted) -> list[Column]:
    name = counted.convention.name
    return [Column("convention_macs", name, NUMBER), Column("convention_params", f"{name} params", NUMBER)]


LAYER_COLUMNS = (  # what each per-layer table (analyze's, run's) starts with
    Column("index", "#", NUMBER),
    Column("name", "name"),
    Column("type", "type"),
    Column("shape", "output shape"),
)


def layer_table(
    graph: Graph, flops: bool = False, counted=None, memory: Memory | None = None, show_memory: bool = False
) -> Table:
    """One row per layer: index, name, type, output shape, params, MACs, share of MACs, RF (and other ops, FLOPs).

    Under a convention, its figure and parameters for each layer come before the RF; with show_memory,
    the output's bytes, the weights' bytes and the activations alive while it runs follow it.
    """
    memory = memory_of(graph, memory)
    batch = memory.batch
    total = graph.totals.macs
    columns = [
        *LAYER_COLUMNS,
        Column("params", "params", NUMBER),
        Column("macs", "MACs", NUMBER),
        Column("mac_share", "% MACs", NUMBER),
        Column("receptive_field", "RF", NUMBER),
    ]
    if flops:
        columns[7:7] = [Column("other_ops", "other ops", NUMBER), Column("flops", "FLOPs", NUMBER)]
    if counted is not None:
        columns[-1:-1] = convention_columns(counted)
    if show_memory:
        columns += [
            Column("activation_bytes", "output mem", NUMBER),
            Column("weight_bytes", "weight mem", NUMBER),
            Column("live_activation_bytes", "live mem", NUMBER),
        ]
    table = Table(columns, title=title(graph, batch))
    for i, n in enumerate(graph.nodes):
        macs, other = batch * n.macs, batch * n.other_ops
        cells = [n.index, n.name, type_text(n), fmt_shape(n.shape), n.params, macs, percent(n.macs, total)]
        cells += [other, 2 * macs + other] if flops else []
        cells += [counted.counts[i].macs, counted.counts[i].params] if counted is not None else []
        cells.append(fmt_rf(n.rf))
        m = memory.layers[i]
        cells += [fmt_bytes(m.activation), fmt_bytes(m.weights), fmt_bytes(m.live)] if show_memory else []
        table.add(*cells)
    return table


def group_table(graph: Graph, by: str, flops: bool = False, counted=None, batch: int = 1) -> Table:
    """One row per layer type or top-level block, with its share of params and MACs."""
    t = scaled(graph.totals, batch)
    columns = [
        Column(by, by),
        Column("layers", "layers", NUMBER),
        Column("params", "params", NUMBER),
        Column("param_share", "% params", NUMBER),
        Column("macs", "MACs", NUMBER),
        Column("mac_share", "% MACs", NUMBER),
    ]
    if flops:
        columns += [Column("other_ops", "other ops", NUMBER), Column("flops", "FLOPs", NUMBER)]
    if counted is not None:
        columns += convention_columns(counted)
        under = grouped_under(graph, by, counted)
    table = Table(columns, title=title(graph, batch))
    for key, count, g in grouped(graph, by, batch):
        cells = [key, count, g.params, percent(g.params, t.params), g.macs, percent(g.macs, t.macs)]
        cells += [g.other_ops, g.flops] if flops else []
        table.add(*cells, *(under[key] if counted is not None else ()))
    return table


def group_key(n, by: str) -> str:
    return n.type if by == "type" else (n.group or n.name)


def grouped_under(graph: Graph, by: str, counted) -> dict[str, list[int]]:
    """A convention's [figure, params] per layer type or top-level block."""
    out: dict[str, list[int]] = {}
    for n, c in zip(graph.nodes, counted.counts):
        sums = out.setdefault(group_key(n, by), [0, 0])
        sums[0] += c.macs
        sums[1] += c.params
    return out


def title(graph: Graph, batch: int = 1) -> str:
    """The spec's name, its variables' values and a batch above 1: 'mobilenet_v1 (alpha=0.75, resolution=224)'."""
    settings = [f"{k}={plain(v)}" for k, v in graph.spec.variables.items()]
    text = graph.name + (" (" + ", ".join(settings) + ")" if settings else "")
    return text + (f", batch {batch}" if batch != 1 else "")


def summary_lines(graph: Graph, flops: bool = False, counted=None, batch: int = 1) -> list[tuple[str, int]]:
    t = scaled(graph.totals, batch)
    lines = [
        ("Total params", t.params),
        ("Trainable params", t.trainable),
        ("Non-trainable params", t.non_trainable),
        ("MACs", t.macs),
        ("Other ops", t.other_ops),
    ]
    if flops:
        lines.append(("FLOPs (2 x MACs + other ops)", t.flops))
    if counted is not None:
        name = counted.convention.name
        lines += [(name, counted.macs), (f"{name} params", counted.params)]
    return lines


def memory_lines(graph: Graph, memory: Memory) -> list[tuple[str, int]]:
    """(label, bytes) of the memory totals: weights, peak activations (naming its layer), caches, their sum."""
    at = graph.nodes[memory.peak_index]
    lines = [
        (f"Weight memory ({memory.weight_dtype})", memory.weights),
        (f"Peak activations ({memory.activation_dtype}, at '{at.name}')", memory.peak),
    ]
    if memory.cache:
        lines.append((f"Key/value caches ({memory.activation_dtype})", memory.cache))
    return lines + [("Memory at inference", memory.total)]


def totals_table(graph: Graph, flops: bool = False, counted=None, memory: Memory | None = None) -> Table:
    """The totals, each as a rounded figure beside the exact one; memory in bytes."""
    memory = memory_of(graph, memory)
    columns = [Column("total", "total"), Column("value", "value", NUMBER), Column("exact", "exact", NUMBER)]
    table = Table(columns, frame=GRID)
    for label, value in summary_lines(graph, flops, counted, memory.batch):
        table.add(label, human(value), value)
    for label, value in memory_lines(graph, memory):
        table.add(label, fmt_bytes(value), value)
    return table


def analysis_blocks(
    graph: Graph,
    by: str | None = None,
    flops: bool = False,
    counted=None,
    memory: Memory | None = None,
    show_memory: bool = False,
) -> list:
    """What `analyze` shows: the per-layer (or grouped) table, then the totals (memory's always, and a
    convention's differences)."""
    memory = memory_of(graph, memory)
    main = (
        group_table(graph, by, flops, counted, memory.batch)
        if by
        else layer_table(graph, flops, counted, memory, show_memory)
    )
    return [
        main,
        totals_table(graph, flops, counted, memory),
        *(convention_lines(counted) if counted is not None else ()),
    ]


def csv_table(graph: Graph, by: str | None = None, counted=None, memory: Memory | None = None) -> Table:
    """Every figure, FLOPs and memory included, one row per layer (or group) and no total row: a column sums to its
    total (live activation bytes, a level rather than a size, are JSON's).

    Under a convention, its figure and parameters (and per layer the rule) follow, in columns keyed convention_*.
    """
    memory = memory_of(graph, memory)
    batch = memory.batch
    figures = ["params", "trainable", "non_trainable", "macs", "other_ops", "flops"]
    sizes = ["activation_elements", "activation_bytes", "weight_bytes", "kv_cache_bytes"]
    extra = [
        Column("convention_macs", "convention_macs", NUMBER),
        Column("convention_params", "convention_params", NUMBER),
    ]
    if counted is None:
        extra = []
    if by:
        table = Table(
            [Column(by, by), *(Column(k, k, NUMBER) for k in ["layers"] + figures + ["weight_bytes"]), *extra]
        )
        under = grouped_under(graph, by, counted) if counted is not None else {}
        for key, count, t in grouped(graph, by, batch):
            table.add(
                key,
                count,
                t.params,
                t.trainable,
                t.non_trainable,
                t.macs,
                t.other_ops,
                t.flops,
                t.params * DTYPES[memory.weight_dtype],
                *under.get(key, ()),
            )
        return table
    if counted is not None:
        extra.append(Column("convention_rule", "convention_rule"))
    table = Table(
        [
            Column("index", "index", NUMBER),
            Column("name", "name"),
            Column("type", "type"),
            Column("shape", "shape"),
            *(Column(k, k, NUMBER) for k in figures),
            Column("receptive_field", "receptive_field"),
            *(Column(k, k, NUMBER) for k in sizes),
            *extra,
        ]
    )
    for i, n in enumerate(graph.nodes):
        under = (
            (counted.counts[i].macs, counted.counts[i].params, counted.counts[i].rule) if counted is not None else ()
        )
        m = memory.layers[i]
        macs, other = batch * n.macs, batch * n.other_ops
        table.add(
            n.index,
            n.name,
            n.type,
            "x".join(map(str, n.shape)),
            n.params,
            n.trainable,
            n.non_trainable,
            macs,
            other,
            2 * macs + other,
            fmt_rf(n.rf),
            m.elements,
            m.activation,
            m.weights,
            m.cache,
            *under,
        )
    return table


def to_json(graph: Graph, by: str | None = None, counted=None, memory: Memory | None = None) -> str:
    memory = memory_of(graph, memory)
    data = graph_dict(graph, counted, memory)
    if by:
        under = grouped_under(graph, by, counted) if counted is not None else {}
        data["groups"] = []
        for key, count, t in grouped(graph, by, memory.batch):
            group = {by: key, "layers": count, **t.as_dict()}
            if counted is not None:
                group["convention"] = dict(zip(("macs", "params"), under[key]))
            data["groups"].append(group)
    return json.dumps(data, indent=2)


def html_blocks(graph: Graph, memory: Memory | None = None) -> list:
    """What the HTML report shows: totals, per-layer charts (MACs, params, output memory, the live-memory curve),
    a drawing of the graph when it branches, every layer's exact figures, and the breakdowns by type and by block."""
    from .drawing import layout_graph

    memory = memory_of(graph, memory)
    batch = memory.batch
    names = [f"{n.index} {n.name} ({type_text(n)})" for n in graph.nodes]
    layers = csv_table(graph, memory=memory)
    layers.title = "Layers"
    by_type, by_block = group_table(graph, "type", batch=batch), group_table(graph, "block", batch=batch)
    by_type.title, by_block.title = "By layer type", "By block"
    return [
        line(title(graph, batch)),
        totals_table(graph, memory=memory),
        Chart("MACs per layer", names, [batch * n.macs for n in graph.nodes], "MACs"),
        Chart("Parameters per layer", names, [n.params for n in graph.nodes], "parameters"),
        Chart(
            f"Output activation memory per layer ({memory.activation_dtype})",
            names,
            [m.activation for m in memory.layers],
            "bytes",
        ),
        Chart("Live activation memory over the layers", names, [m.live for m in memory.layers], "bytes", CURVE),
        layout_graph(graph, batch),
        layers,
        by_type,
        by_block,
    ]


# ---------------------------------------------------------------- every convention side by side (--convention all)


def every_convention(graph: Graph) -> list:
    """(Convention, Counted or the FlopcountError that stops it) for every convention, flopcount's first."""
    from .errors import FlopcountError
    from .layers.conventions import CONVENTIONS

    out = []
    for name, conv in CONVENTIONS.items():
        try:
            out.append((conv, graph.under(name)))
        except FlopcountError as err:
            out.append((conv, err))
    return out


def conventions_table(graph: Graph, results=None, tidy: bool = False) -> Table:
    """Every convention's figure and parameters, then one row per layer type and rule that makes it differ from the MACs.

    A convention's first row holds its tool, figure and parameters; tidy (for CSV) repeats them on every row.
    A convention that has no rule for some layer says why in place of a figure.
    """
    columns = [
        Column("convention", "convention"),
        Column("tool", "tool"),
        Column("figure", "figure", NUMBER),
        Column("params", "params", NUMBER),
        Column("type", "layer type"),
        Column("layers", "layers", NUMBER),
        Column("difference", "figure - MACs", NUMBER),
        Column("rule", "rule"),
    ]
    table = Table(columns, title=f"{title(graph)}: every tool's figure, and where it differs from the MACs")
    for conv, counted in results or every_convention(graph):
        if isinstance(counted, Exception):
            table.add(conv.name, conv.tool, "", "", "", "", "", f"no figure: {counted.describe()}")
            continue
        head = [conv.name, conv.tool, counted.macs, counted.params]
        rows = counted.contributions() or [("", "the figure is the MACs", 0, 0)]
        for i, (t, rule, layers, diff) in enumerate(rows):
            if i and not tidy:
                head = [conv.name, "", "", ""]
            table.add(*head, t, layers if t else "", diff, rule)
    return table


def conventions_blocks(graph: Graph) -> list:
    """What `analyze --convention all` shows: the table, and what each figure is."""
    results = every_convention(graph)
    notes = [
        line(
            f"{conv.name}: {conv.figure}; {'trainable' if conv.params == 'trainable' else 'all'} parameters; "
            f"called as {conv.call}."
        )
        for conv, _ in results
    ]
    return [conventions_table(graph, results), *notes]


def conventions_json(graph: Graph) -> str:
    conventions = []
    for conv, counted in every_convention(graph):
        if isinstance(counted, Exception):
            conventions.append({"name": conv.name, "tool": conv.tool, "error": counted.describe()})
        else:
            conventions.append({**convention_dict(counted), "error": None})
    return json.dumps(
        {"name": graph.name, "macs": graph.totals.macs, "params": graph.totals.params, "conventions": conventions},
        indent=2,
    )


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
        (
            "params",
            _fmt_params(r.trainable, r.non_trainable),
            _fmt_params(r.expected_trainable, r.expected_non_trainable),
            r.params_ok,
        ),
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


def gflops(r) -> str:
    """A layer's speed: 2 x the MACs it performed (the whole batch) per second, in billions; '-' without MACs."""
    if not r.metered_macs or r.seconds <= 0:
        return "-"
    return f"{2 * r.metered_macs / r.seconds / 1e9:,.2f}"


def run_blocks(result) -> list:
    """What `run` shows: per layer ✓/✗ for shape, params and MACs as run, its time, speed and share of the run,
    then the verdict."""
    columns = [
        *LAYER_COLUMNS,
        Column("params", "params read", NUMBER),
        Column("macs", "MACs metered", NUMBER),
        Column("ms", "ms", NUMBER),
        Column("gflops", "GFLOP/s", NUMBER),
        Column("time_share", "% time", NUMBER),
    ]
    table = Table(columns, title=f"{result.name}: run with NumPy (batch {result.batch}, seed {result.seed})")
    total = result.seconds
    for r in result.layers:
        shape, params, macs = run_figures(r)
        table.add(
            r.index,
            r.name,
            r.type,
            _run_cell(*shape[1:], True),
            _run_cell(*params[1:], False),
            _run_cell(*macs[1:], False),
            f"{r.seconds * 1000:,.3f}",
            gflops(r),
            percent(r.seconds, total),
        )
    table.footer.append(
        line(
            f"forward {result.seconds:.3f} s, weights {result.weight_seconds:.3f} s, "
            f"estimated peak memory {result.peak_estimate / 2**20:,.1f} MiB"
            + (f", measured {result.max_rss / 2**20:,.1f} MiB resident" if result.max_rss else "")
        )
    )
    agree = result.activation_peak == result.activation_estimate
    table.footer.append(
        line(
            f"peak activations as run {fmt_bytes(result.activation_peak)} "
            f"({result.activation_peak:,} bytes), from shapes {result.activation_estimate:,} bytes ",
            Span(MARK[agree], GOOD if agree else BAD),
        )
    )
    return [table, *verdict_blocks(result)]


def run_html_blocks(result) -> list:
    """The run for the HTML report: its table (time, GFLOP/s and share per layer) and the time per layer as bars."""
    table, *verdict = run_blocks(result)
    labels = [f"{r.index} {r.name} ({r.type})" for r in result.layers]
    micro = [round(r.seconds * 1e6) for r in result.layers]
    return [table.footer[0], Chart("Time per layer (forward, microseconds)", labels, micro, "µs"), table, *verdict]


def run_to_json(result) -> str:
    """The run's per-layer figures beside the analyzer's, exact integers, and the verdict."""

    layers = []
    for r in result.layers:
        layers.append(
            {
                "index": r.index,
                "name": r.name,
                "type": r.type,
                "shape": {
                    "run": None if r.shape is None else list(r.shape),
                    "analyzer": list(r.expected_shape),
                    "ok": r.shape_ok,
                },
                "params": {
                    "run": {"trainable": r.trainable, "non_trainable": r.non_trainable},
                    "analyzer": {"trainable": r.expected_trainable, "non_trainable": r.expected_non_trainable},
                    "ok": r.params_ok,
                },
                "macs": {"run": plain(r.macs), "analyzer": r.expected_macs, "ok": r.macs_ok},
                "error": r.error,
                "seconds": round(r.seconds, 6),
                "gflop_per_second": round(2 * r.metered_macs / r.seconds / 1e9, 3)
                if r.metered_macs and r.seconds > 0
                else None,
                "time_share": round(r.seconds / result.seconds, 6) if result.seconds > 0 else None,
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
            "params": {
                "run": sum(r.params for r in result.layers),
                "analyzer": sum(r.expected_params for r in result.layers),
            },
            "macs": {
                "run": plain(sum(r.macs for r in result.layers)),
                "analyzer": sum(r.expected_macs for r in result.layers),
            },
        },
        "forward_seconds": round(result.seconds, 6),
        "weight_seconds": round(result.weight_seconds, 6),
        "peak_memory_estimate": result.peak_estimate,
        "max_rss": result.max_rss,
        "peak_activation_bytes": {"run": result.activation_peak, "analyzer": result.activation_estimate},
    }
    return json.dumps(data, indent=2)
