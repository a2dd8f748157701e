"""Render analysis results: rich tables for people, JSON, CSV and Markdown for machines.

The only module that imports rich. Functions return data or render into a given
console; nothing here prints on its own.
"""

from __future__ import annotations

import csv
import io
import json
from contextlib import contextmanager
from fractions import Fraction

from .expr import fixed, plain
from .graph import Graph, Totals
from .layers import fmt_shape


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


COLUMNS = ("index", "name", "type", "shape", "params", "macs", "mac_share", "receptive_field")


def layer_rows(graph: Graph, flops: bool = False) -> list[list[str]]:
    total = graph.totals.macs
    rows = []
    for n in graph.nodes:
        row = [str(n.index), n.name, n.type, fmt_shape(n.shape), f"{n.params:,}", f"{n.macs:,}", percent(n.macs, total), fmt_rf(n.rf)]
        if flops:
            row.insert(7, f"{n.other_ops:,}")
            row.insert(8, f"{2 * n.macs + n.other_ops:,}")
        rows.append(row)
    return rows


def group_rows(graph: Graph, by: str, flops: bool = False) -> list[list[str]]:
    t = graph.totals
    rows = []
    for key, count, g in grouped(graph, by):
        row = [key, str(count), f"{g.params:,}", percent(g.params, t.params), f"{g.macs:,}", percent(g.macs, t.macs)]
        if flops:
            row += [f"{g.other_ops:,}", f"{g.flops:,}"]
        rows.append(row)
    return rows


def headers(by: str | None, flops: bool) -> list[str]:
    if by:
        h = [by, "layers", "params", "% params", "MACs", "% MACs"]
        return h + (["other ops", "FLOPs"] if flops else [])
    h = ["#", "name", "type", "output shape", "params", "MACs", "% MACs", "RF"]
    if flops:
        h[7:7] = ["other ops", "FLOPs"]
    return h


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


def fit_width(console, renderable) -> None:
    """Widen a console that is not a terminal (a pipe, a file) so tables are never cropped."""
    needed = console.measure(renderable, options=console.options.update_width(10_000)).maximum
    if not console.is_terminal and needed > console.width:
        console.width = needed


NUMERIC = {"#", "params", "% params", "MACs", "% MACs", "RF", "other ops", "FLOPs", "layers"}
LARGE = 1000  # rows beyond which rich's per-cell layout (about 1 ms a row) is too slow even for a terminal


def plain_table(title: str, heads: list[str], rows: list[list[str]], right: set[int]) -> str:
    """The table rich draws with its default heavy-head box, drawn directly: linear in the rows.

    right: indices of the right-justified columns.
    """
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(heads)]

    def line(cells, bar):
        out = []
        for i, (cell, w) in enumerate(zip(cells, widths)):
            out.append(f" {cell.rjust(w) if i in right else cell.ljust(w)} ")
        return bar + bar.join(out) + bar

    def rule(left, mid, right, fill):
        return left + mid.join(fill * (w + 2) for w in widths) + right

    body = [rule("┏", "┳", "┓", "━"), line(heads, "┃"), rule("┡", "╇", "┩", "━")]
    body += [line(r, "│") for r in rows]
    body.append(rule("└", "┴", "┘", "─"))
    return "\n".join([title.ljust(len(body[0]))] + body)


def render_table(graph: Graph, console, by: str | None = None, flops: bool = False) -> None:
    """Print the per-layer (or grouped) table and the totals into a rich console."""
    from rich.table import Table
    from rich.text import Text

    title = f"{graph.name}"
    if graph.spec.variables:
        title += " (" + ", ".join(f"{k}={plain(v)}" for k, v in graph.spec.variables.items()) + ")"
    rows = group_rows(graph, by, flops) if by else layer_rows(graph, flops)
    heads = headers(by, flops)
    if len(rows) > LARGE or not console.is_terminal:
        # the same drawing, without rich's layout: a pipe or file has no width to fit
        right = {i for i, h in enumerate(heads) if h in NUMERIC}
        console.out(plain_table(title, heads, rows, right), highlight=False)
    else:
        table = Table(title=Text(title), title_justify="left", header_style="bold")
        for i, h in enumerate(heads):
            wide = max([len(h)] + [len(r[i]) for r in rows])
            table.add_column(h, justify="right" if h in NUMERIC else "left", min_width=min(wide, 32), overflow="fold")
        for row in rows:
            table.add_row(*(Text(cell) for cell in row))  # plain text: names may contain [brackets]
        console.print(table)
    summary = Table.grid(padding=(0, 2))
    summary.add_column()
    summary.add_column(justify="right")
    summary.add_column(justify="right")
    for label, value in summary_lines(graph, flops):
        summary.add_row(label, human(value), f"{value:,}")
    console.print(summary)


def to_json(graph: Graph, by: str | None = None) -> str:
    data = graph_dict(graph)
    if by:
        data["groups"] = [
            {by: key, "layers": count, **t.as_dict()} for key, count, t in grouped(graph, by)
        ]
    return json.dumps(data, indent=2)


def to_csv(graph: Graph, by: str | None = None) -> str:
    """Every figure, FLOPs included, one row per layer (or group) and a total row."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if by:
        w.writerow([by, "layers", "params", "trainable", "non_trainable", "macs", "other_ops", "flops"])
        for key, count, t in grouped(graph, by):
            w.writerow([key, count, t.params, t.trainable, t.non_trainable, t.macs, t.other_ops, t.flops])
    else:
        w.writerow(["index", "name", "type", "shape", "params", "trainable", "non_trainable", "macs", "other_ops",
                    "flops", "receptive_field"])
        for n in graph.nodes:
            w.writerow([n.index, n.name, n.type, "x".join(map(str, n.shape)), n.params, n.trainable, n.non_trainable,
                        n.macs, n.other_ops, 2 * n.macs + n.other_ops, fmt_rf(n.rf)])
    t = graph.totals
    w.writerow(["total", "", "", "", t.params, t.trainable, t.non_trainable, t.macs, t.other_ops, t.flops, ""] if not by
               else ["total", len(graph.nodes), t.params, t.trainable, t.non_trainable, t.macs, t.other_ops, t.flops])
    return buf.getvalue()


def markdown_table(head: list[str], rows: list[list[str]]) -> str:
    """A GitHub-flavoured Markdown table; pipes in cells are escaped."""
    def cell(s):
        return str(s).replace("|", "\\|")

    lines = ["| " + " | ".join(cell(h) for h in head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def to_markdown(graph: Graph, by: str | None = None, flops: bool = False) -> str:
    rows = group_rows(graph, by, flops) if by else layer_rows(graph, flops)
    body = markdown_table(headers(by, flops), rows)
    totals = markdown_table(["total", "value", "exact"], [[k, human(v), f"{v:,}"] for k, v in summary_lines(graph, flops)])
    return f"### {graph.name}\n\n{body}\n\n{totals}\n"


# ---------------------------------------------------------------- run results (flopcount run, analyze --verify)

MARK = {True: "✓", False: "✗"}
MARK_STYLE = {True: "green", False: "red"}


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


def render_verdict(result, console) -> None:
    """The verdict alone: green when everything agrees, red naming each disagreement."""
    from rich.text import Text

    first, *rest = verdict_lines(result)
    console.print(Text(first, style=MARK_STYLE[result.ok]))
    for line in rest:
        console.print(Text(line))


def _run_cell(ran, analyzed, agree, mark_first):
    from rich.text import Text

    figure = ran if agree else f"{ran} (analyzer {analyzed})"
    mark = (MARK[agree], MARK_STYLE[agree])
    return Text.assemble(mark, " ", figure) if mark_first else Text.assemble(figure, " ", mark)


def render_run(result, console) -> None:
    """Per-layer ✓/✗ for shape, params and MACs as run, then the verdict, into a rich console."""
    from rich.table import Table
    from rich.text import Text

    table = Table(
        title=Text(f"{result.name}: run with NumPy (batch {result.batch}, seed {result.seed})"),
        title_justify="left",
        header_style="bold",
    )
    rows = []
    for r in result.layers:
        (shape, params, macs) = run_figures(r)
        rows.append([Text(str(r.index)), Text(r.name), Text(r.type), _run_cell(*shape[1:], True),
                     _run_cell(*params[1:], False), _run_cell(*macs[1:], False)])
    heads = ("#", "name", "type", "output shape", "params read", "MACs metered")
    right = {0, 4, 5}
    if not console.is_terminal:
        # a pipe or a file: the same drawing without rich's per-cell layout, never cropped
        console.out(plain_table(table.title.plain, list(heads), [[c.plain for c in row] for row in rows], right),
                    highlight=False)
    else:
        widths = [max([len(h)] + [row[i].cell_len for row in rows]) for i, h in enumerate(heads)]
        for i, (head, width) in enumerate(zip(heads, widths)):
            table.add_column(head, justify="right" if i in right else "left", width=width, no_wrap=True)
        for row in rows:
            table.add_row(*row)
        console.print(table)
    console.print(
        f"forward {result.seconds:.3f} s, weights {result.weight_seconds:.3f} s, "
        f"estimated peak memory {result.peak_estimate / 2**20:,.1f} MiB"
    )
    render_verdict(result, console)


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


@contextmanager
def run_progress(console, enabled: bool = True):
    """Yield a progress(done, total, node) callback drawing a transient bar, or None when off or not a terminal."""
    if not enabled or not console.is_terminal:
        yield None
        return
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=True,
    ) as bar:
        task = bar.add_task("running", total=None)

        def advance(done, total, node):
            bar.update(task, completed=done, total=total, description=f"ran {escape(node.name)}")

        yield advance
