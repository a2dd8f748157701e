"""A grid of variable settings, one analysis per point: a family of models in one table.

``flopcount sweep mobilenet_v1 --set alpha=1,0.75 --set resolution=224,160`` analyses every
combination (the first variable varies slowest) and reports, per point, the parameters,
MACs, other ops and memory. Each point is the same analysis as ``analyze --set``; NumPy is
never imported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import product
from math import floor, log10

from .errors import SpecError
from .expr import plain
from .graph import Graph, Totals, build_graph
from .memory import Memory, estimate_memory, fmt_bytes
from .table import NUMBER, Column, Dot, Scatter, Table

MAX_POINTS = 10_000  # a grid larger than this is a typo, not a study


@dataclass
class Point:
    """One setting of the grid and its figures (MACs and other ops for the whole batch)."""

    settings: dict  # variable -> its value (a number, or the text given)
    totals: Totals
    memory: Memory


def parse_grid(pairs) -> dict[str, list[str]]:
    """['alpha=1,0.75', 'resolution=224,192'] (the command line's --set) into {'alpha': ['1', '0.75'], ...}."""
    grid: dict[str, list[str]] = {}
    for pair in pairs or ():
        name, sep, values = pair.partition("=")
        name = name.strip()
        items = [v.strip() for v in values.split(",")]
        if not sep or not name.isidentifier() or not all(items):
            raise SpecError.about(
                "overrides", "{overrides} takes NAME=V1,V2,..., such as alpha=1,0.75. Received: {pair}", pair=pair
            )
        if name in grid:
            raise SpecError.about("overrides", "{overrides} names a variable twice. Received: {name}", name=name)
        grid[name] = items
    points = 1
    for items in grid.values():
        points *= len(items)
    if points > MAX_POINTS:
        raise SpecError.about(
            "overrides",
            f"{{overrides}} makes a grid of {points:,} points, more than {MAX_POINTS:,}. "
            "Received: " + ", ".join(f"{k} ({len(v)})" for k, v in grid.items()),
        )
    return grid


def sweep(
    spec,
    grid: dict[str, list[str]],
    max_layers=None,
    batch: int = 1,
    weights: str = "float32",
    activations: str = "float32",
) -> tuple[str, list[Point]]:
    """(the spec's name, one Point per combination of the grid's values, the first variable slowest)."""
    from .spec import MAX_LAYERS, load_spec

    names = list(grid)
    points = []
    name = ""
    for values in product(*grid.values()):
        settings = dict(zip(names, values))
        graph: Graph = build_graph(load_spec(spec, settings, max_layers or MAX_LAYERS))
        name = graph.name
        known = graph.spec.variables  # the values as the spec evaluated them: 1 for '1.0'
        settings = {k: plain(known[k]) if k in known else v for k, v in settings.items()}
        t = graph.totals
        points.append(
            Point(
                settings,
                Totals(t.trainable, t.non_trainable, batch * t.macs, batch * t.other_ops),
                estimate_memory(graph, batch, weights, activations),
            )
        )
    return name, points


FIGURES = ("params", "trainable", "macs", "other_ops")
SIZES = ("weight_bytes", "peak_activation_bytes", "total_bytes")


def sweep_table(name: str, points: list[Point], machine: bool = False) -> Table:
    """One row per point: its settings, then params, trainable, MACs, other ops and memory.

    machine: bytes as exact integers (CSV); else in binary units beside the exact counts.
    """
    settings = list(points[0].settings) if points else []
    columns = [Column(k, k, NUMBER) for k in settings]
    columns += [
        Column("params", "params", NUMBER),
        Column("trainable", "trainable", NUMBER),
        Column("macs", "MACs", NUMBER),
        Column("other_ops", "other ops", NUMBER),
        Column("weight_bytes", "weight mem", NUMBER),
        Column("peak_activation_bytes", "peak activations", NUMBER),
        Column("total_bytes", "memory", NUMBER),
    ]
    table = Table(columns, title=f"{name}: {len(points)} settings")
    for p in points:
        sizes = [p.memory.weights, p.memory.peak, p.memory.total]
        table.add(
            *map(str, p.settings.values()),
            p.totals.params,
            p.totals.trainable,
            p.totals.macs,
            p.totals.other_ops,
            *(sizes if machine else map(fmt_bytes, sizes)),
        )
    return table


def sweep_json(name: str, points: list[Point]) -> str:
    """Every point's settings and figures as exact integers."""
    return json.dumps(
        {
            "name": name,
            "points": [{"settings": p.settings, **p.totals.as_dict(), "memory": p.memory.as_dict()} for p in points],
        },
        indent=2,
    )


# ---------------------------------------------------------------- the chart: MACs against parameters

CHART_W, CHART_H = 760, 460
PLOT = (80, 30, CHART_W - 150, CHART_H - 50)  # left, top, right, bottom: room for tick labels and point labels
LOG_RATIO = 4  # an axis whose values span this factor or more is drawn on a log scale


def tick_text(n: int) -> str:
    """500000 -> '500 K', 1500000 -> '1.5 M': the rounded figure without trailing zeros."""
    from .report import human

    text = human(n)
    number, _, unit = text.partition(" ")
    if "." in number:
        number = number.rstrip("0").rstrip(".")
    return f"{number} {unit}".strip()


def scale(values: list[int], low: int, high: int):
    """(value -> pixel between low and high, ticks as (pixel, text), 'log' or 'linear') for an axis of these values.

    Log when every value is positive and the largest is LOG_RATIO times the smallest or more (ticks at 1, 2 and
    5 times powers of ten); else linear (ticks at round steps). A margin of a tenth of the span on both sides.
    """
    least, most = min(values), max(values)
    if least > 0 and most >= LOG_RATIO * least:
        a, b = log10(least), log10(most)
        pad = (b - a) / 10
        a, b = a - pad, b + pad

        def at(v):
            return round(low + (high - low) * (log10(v) - a) / (b - a))

        ticks = [
            m * 10**k for k in range(max(floor(a), 0), floor(b) + 1) for m in (1, 2, 5) if a <= log10(m * 10**k) <= b
        ]
        return at, [(at(t), tick_text(t)) for t in ticks], "log"
    span = most - least or max(most // 10, 1)
    a, b = least - span / 10, most + span / 10
    step = 10 ** max(floor(log10((b - a) / 5)), 0)
    for m in (1, 2, 5, 10):
        if (b - a) / (m * step) <= 6:
            step *= m
            break

    def at(v):
        return round(low + (high - low) * (v - a) / (b - a))

    first = -(-max(a, 0) // step) * step
    ticks = range(int(first), int(b) + 1, int(step))
    return at, [(at(t), tick_text(t)) for t in ticks], "linear"


def sweep_chart(name: str, points: list[Point]) -> Scatter:
    """MACs against parameters, one dot per setting labelled with its values; dots differing only in the last
    variable joined by a line."""
    left, top, right, bottom = PLOT
    x_at, x_ticks, x_kind = scale([p.totals.params for p in points], left, right)
    y_at, y_ticks, y_kind = scale([p.totals.macs for p in points], bottom, top)
    names = list(points[0].settings) if points else []
    dots, series = [], {}
    for i, p in enumerate(points):
        setting = ", ".join(f"{k}={v}" for k, v in p.settings.items())
        dots.append(
            Dot(
                x_at(p.totals.params),
                y_at(p.totals.macs),
                ", ".join(str(v) for v in p.settings.values()),
                (
                    setting,
                    f"{p.totals.params:,} parameters ({p.totals.trainable:,} trainable)",
                    f"{p.totals.macs:,} MACs",
                ),
                (("params", p.totals.params), ("trainable", p.totals.trainable), ("macs", p.totals.macs)),
            )
        )
        series.setdefault(tuple(p.settings.values())[:-1], []).append(i)
    scales = "log scales" if x_kind == y_kind == "log" else f"{x_kind} parameters, {y_kind} MACs"
    note = "One point per setting" + (f", labelled {', '.join(names)}" if names else "") + f"; {scales}"
    if len(names) > 1:
        note += f"; a line joins the settings that differ only in {names[-1]}"
    return Scatter(
        f"{name}: MACs against parameters",
        dots,
        [s for s in series.values() if len(s) > 1] if len(names) > 1 else [],
        CHART_W,
        CHART_H,
        PLOT,
        "parameters",
        "MACs",
        x_ticks,
        y_ticks,
        note + ".",
    )
