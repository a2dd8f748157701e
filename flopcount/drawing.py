"""Lay out a drawing of a branching graph for the HTML report: boxes in rows, edges between them.

A layered layout: each box is a layer, or a run of layers each reading only the one before it
(within one top-level block), so a ResNet block is two boxes and a diamond, and an inception
module a fan of four. A box's row is one below its lowest input; an edge that skips rows runs
in a lane of its own through them; in each row boxes sit under the mean of their inputs,
pushed apart where they would overlap. Every position is computed here in pixels; the
renderer only draws. Linear in the layers; beyond MAX_BOXES boxes the drawing keeps the first
ones and says so (the tables and charts hold every layer).
"""

from __future__ import annotations

from .graph import Graph
from .table import Box, Drawing, Edge

MAX_BOXES = 400  # beyond this the drawing shows the first boxes: a page stays quick to open
MAX_LANES = 2 * MAX_BOXES  # row crossings given a lane of their own; longer edges past this are drawn straight
BOX_W, BOX_H = 200, 36
LANE_W = 6
GAP_X, GAP_Y = 18, 30  # between neighbours in a row, between rows
MARGIN = 12
MAX_CHARS = 28  # of a label line in a box 200 pixels wide, at 12 px in the browser's default font
MAX_TITLE = 30  # layers listed in a box's tooltip


def branches(graph: Graph) -> bool:
    """Whether any layer reads more than one output, or any output is read more than once, or there are several inputs."""
    read: dict[int, int] = {}
    sources = 0
    for n in graph.nodes:
        sources += not n.inputs
        if len(n.inputs) > 1:
            return True
        for i in n.inputs:
            read[i] = read.get(i, 0) + 1
    return sources > 1 or any(count > 1 for count in read.values())


def block_of(node) -> str | None:
    """The top-level block a layer belongs to, None for a top-level layer (whose group is its own name)."""
    return node.group if node.group != node.name else None


def find_runs(graph: Graph) -> list[list[int]]:
    """Layer indices in maximal runs: a layer joins the run of its one input when it is that input's only reader
    and both sit in the same top-level block (or neither in one). Runs are in order of their first layer."""
    readers = graph.consumers()
    run_of: dict[int, int] = {}
    runs: list[list[int]] = []
    for n in graph.nodes:
        if len(n.inputs) == 1:
            u = n.inputs[0]
            if len(readers[u]) == 1 and block_of(graph.nodes[u]) == block_of(n):
                run_of[n.index] = run_of[u]
                runs[run_of[u]].append(n.index)
                continue
        run_of[n.index] = len(runs)
        runs.append([n.index])
    return runs


def short(text: str, limit: int = MAX_CHARS) -> str:
    """text, cut in the middle to at most limit characters ('inception_3a/b…/conv_1x1')."""
    if len(text) <= limit:
        return text
    head = (limit - 1) // 2
    return text[:head] + "…" + text[len(text) - (limit - 1 - head) :]


def layout_graph(graph: Graph, batch: int = 1, max_boxes: int = MAX_BOXES) -> Drawing:
    """The drawing of graph (MACs in labels for the batch), or an empty one whose note says why there is none."""
    from .report import human

    title = "The graph"
    if not branches(graph):
        return Drawing(
            title,
            [],
            [],
            0,
            0,
            f"A plain chain of {len(graph.nodes):,} layers, each reading the one before: no drawing.",
        )
    nodes = graph.nodes
    runs = find_runs(graph)
    shown = runs[:max_boxes]  # a run's inputs come before it, so a prefix of runs is whole
    run_of = {i: k for k, run in enumerate(shown) for i in run}

    # rows: one below the lowest input
    rank = []
    for run in shown:
        rank.append(max((rank[run_of[u]] + 1 for u in nodes[run[0]].inputs), default=0))

    # items to place: boxes 0..len(shown)-1, then lanes; each with its row, width, order key and inputs (items)
    row_of, width, key, preds = list(rank), [BOX_W] * len(shown), [run[0] for run in shown], [[] for _ in shown]
    edges = []  # (source layer, target layer, lane items, long)
    lanes_left = MAX_LANES
    for k, run in enumerate(shown):
        target = run[0]
        for u in nodes[target].inputs:
            before, lanes = run_of[u], []
            span = rank[k] - rank[run_of[u]] - 1
            long = span > lanes_left
            if span > 0 and not long:
                lanes_left -= span
                for r in range(rank[run_of[u]] + 1, rank[k]):
                    row_of.append(r)
                    width.append(LANE_W)
                    key.append(target)
                    preds.append([before])
                    before = len(row_of) - 1
                    lanes.append(before)
            preds[k].append(before)
            edges.append((u, target, lanes, long))

    # x: each row in turn, items under the mean of their inputs (rows above are placed), pushed apart, re-centred
    rows: list[list[int]] = [[] for _ in range(max(rank) + 1)]
    for item, r in enumerate(row_of):
        rows[r].append(item)
    x = [0.0] * len(row_of)
    for row in rows:
        want = {i: sum(x[p] for p in preds[i]) / len(preds[i]) if preds[i] else 0.0 for i in row}
        row.sort(key=lambda i: (want[i], key[i]))
        for j, i in enumerate(row):
            x[i] = want[i] if j == 0 else max(want[i], x[row[j - 1]] + (width[row[j - 1]] + width[i]) / 2 + GAP_X)
        shift = sum(want[i] - x[i] for i in row) / len(row)
        for i in row:
            x[i] += shift
    left = min(x[i] - width[i] / 2 for i in range(len(x)))
    cx = [round(v - left + MARGIN) for v in x]

    def top(r: int) -> int:
        return MARGIN + r * (BOX_H + GAP_Y)

    macs = [batch * sum(nodes[i].macs for i in run) for run in shown]
    most = max(macs) or 1
    boxes = []
    for k, run in enumerate(shown):
        first = nodes[run[0]]
        kind = first.type if len(run) == 1 else f"{len(run)} layers"
        label = kind + (f" · {human(macs[k])} MACs" if macs[k] else "")
        listed = [f"{nodes[i].name} ({nodes[i].type}): {batch * nodes[i].macs:,} MACs" for i in run[:MAX_TITLE]]
        if len(run) > MAX_TITLE:
            listed.append(f"and {len(run) - MAX_TITLE:,} more")
        boxes.append(
            Box(
                cx[k] - BOX_W // 2,
                top(rank[k]),
                BOX_W,
                BOX_H,
                tuple(run),
                (short(first.name), short(label)),
                tuple(listed),
                -(-4 * macs[k] // most),  # 1 to 4 by quarters of the costliest box's MACs; 0 without MACs
            )
        )

    # edges: from the source box's bottom centre, down each lane, to the target's top, ends spread along it
    ends: dict[int, list[int]] = {}
    for e, edge in enumerate(edges):
        ends.setdefault(edge[1], []).append(e)
    drawn = [None] * len(edges)
    for target, into in ends.items():
        box = boxes[run_of[target]]
        into.sort(key=lambda e: cx[edges[e][2][-1]] if edges[e][2] else cx[run_of[edges[e][0]]])
        for j, e in enumerate(into):
            source, _, lanes, long = edges[e]
            start = boxes[run_of[source]]
            points = [(start.x + BOX_W // 2, start.y + BOX_H)]
            for lane in lanes:
                points += [(cx[lane], top(row_of[lane])), (cx[lane], top(row_of[lane]) + BOX_H)]
            points.append((box.x + BOX_W * (j + 1) // (len(into) + 1), box.y))
            drawn[e] = Edge(source, target, tuple(points), long)

    note = (
        "Each box is a layer, or a run of layers each reading only the one before; the stronger its colour, "
        "the more MACs a box holds; hover a box for its layers."
    )
    if len(shown) < len(runs):
        note += (
            f" The drawing shows the first {len(shown):,} of {len(runs):,} boxes (holding "
            f"{sum(map(len, shown)):,} of the {len(nodes):,} layers); the charts and tables hold every layer."
        )
    width_px = max(b.x for b in boxes) + BOX_W + MARGIN
    width_px = max(width_px, max((cx[i] + LANE_W for i in range(len(cx))), default=0) + MARGIN)
    return Drawing(title, boxes, drawn, width_px, top(len(rows)) - GAP_Y + MARGIN, note)
