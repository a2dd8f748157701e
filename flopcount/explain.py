"""What `explain` shows: one layer's figures, each with its formula in the layer's own symbols
and the numbers substituted (the formulas each layer type states in the registry)."""

from __future__ import annotations

import json

from .errors import SpecError, suggest
from .graph import Graph, Node
from .layers import fmt_shape
from .layers.formula import Factor, Formula, elements, formula
from .memory import DTYPES, Memory, estimate_memory
from .report import fmt_rf
from .table import GOOD, GRID, NUMBER, Column, Span, Table, line

FIGURES = (("params", "params"), ("macs", "MACs"), ("other_ops", "other ops"))


def find_layer(graph: Graph, which: str) -> Node:
    """A layer by name, or by index when no layer has that name; an error with a suggestion otherwise."""
    by_name = {n.name: n for n in graph.nodes}
    if which in by_name:
        return by_name[which]
    if which.isdigit() and int(which) < len(graph.nodes):
        return graph.nodes[int(which)]
    raise SpecError.about(
        "layer", f"{{layer}} names no layer of {graph.name}.{suggest(which, by_name)} Received: {{text}}", text=which
    )


def figures(graph: Graph, node: Node, memory: Memory) -> list[tuple[str, Formula | None, int]]:
    """(what, formula or None, the counted figure) for every figure of the layer."""
    stated = node.layer.formulas(node.in_shapes, node.shape)
    counted = {"params": node.params, "macs": node.macs, "other_ops": node.other_ops}
    out = [(title, stated[key], counted[key]) for key, title in FIGURES]
    m = memory.layers[node.index]

    def size(dtype):
        return Factor(f"bytes({dtype})", DTYPES[dtype])

    batch = [Factor("batch", memory.batch)] if memory.batch != 1 else []
    out.append(("output elements", formula([*batch, *elements(node.shape)]), m.elements))
    out.append(("output memory", formula([*batch, *elements(node.shape), size(memory.activation_dtype)]), m.activation))
    out.append(("weight memory", formula([Factor("params", node.params), size(memory.weight_dtype)]), m.weights))
    if m.cache:
        cached = node.layer.cache_elements(node.in_shapes)
        out.append(
            (
                "key/value cache",
                formula([*batch, Factor("cache elements", cached), size(memory.activation_dtype)]),
                m.cache,
            )
        )
    return out


def explain_blocks(graph: Graph, node: Node, memory: Memory | None = None) -> list:
    """A heading line, then one row per figure: what, the formula, the numbers, the value and whether they agree."""
    memory = memory or estimate_memory(graph)
    inputs = ", ".join(fmt_shape(s) for s in node.in_shapes) or "none"
    head = line(
        Span(f"layer {node.index} '{node.name}' ({node.type})", "strong"),
        f": input {inputs} → output {fmt_shape(node.shape)}",
    )
    table = Table(
        [
            Column("figure", "figure"),
            Column("formula", "formula"),
            Column("numbers", "numbers"),
            Column("value", "value", NUMBER),
            Column("check", "check"),
        ],
        frame=GRID,
    )
    for what, f, counted in figures(graph, node, memory):
        if f is None:
            table.add(what, "(no formula stated for this type)", "", counted, "")
        else:
            table.add(what, f.symbols(), "= " + f.numbers(), counted, (Span("✓", GOOD),) if f.value == counted else "✗")
    table.add("receptive field", "per spatial axis of the input", "", fmt_rf(node.rf), "")
    table.add("jump", "input positions between neighbouring outputs", "", fmt_rf(node.jump), "")
    table.add(
        "live activation bytes",
        "outputs alive while it runs (its own included)",
        "",
        memory.layers[node.index].live,
        "",
    )
    return [head, table]


def explain_json(graph: Graph, node: Node, memory: Memory | None = None) -> str:
    memory = memory or estimate_memory(graph)
    data = {
        "index": node.index,
        "name": node.name,
        "type": node.type,
        "inputs": [list(s) for s in node.in_shapes],
        "shape": list(node.shape),
        "receptive_field": list(node.rf),
        "jump": list(node.jump),
        "live_activation_bytes": memory.layers[node.index].live,
        "figures": {},
    }
    for what, f, counted in figures(graph, node, memory):
        data["figures"][what] = {
            "value": counted,
            "formula": f and f.symbols(),
            "numbers": f and f.numbers(),
            "formula_value": f and f.value,
        }
    return json.dumps(data, indent=2)
