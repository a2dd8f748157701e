"""The graph drawing's layout (flopcount.drawing): every layer in one box, every input connection drawn once or
inside a box, edges pointing down, boxes of a row apart. The browser's view of it is in test_html_report.py."""

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flopcount import analyze, build_graph, parse_spec
from flopcount.drawing import BOX_H, MAX_BOXES, layout_graph


def check_layout(graph, drawing):
    """The drawing's invariants for a graph it draws whole."""
    nodes = graph.nodes
    drawn = [i for box in drawing.boxes for i in box.layers]
    assert sorted(drawn) == [n.index for n in nodes]  # each layer in exactly one box
    inside = Counter()
    for box in drawing.boxes:
        for u, v in zip(box.layers, box.layers[1:]):
            assert nodes[v].inputs == (u,)  # a box is a run: each layer reads the one before, and only it
            inside[u, v] += 1
    edges = Counter((e.source, e.target) for e in drawing.edges)
    assert edges + inside == Counter((u, n.index) for n in nodes for u in n.inputs)  # one edge per connection
    box_of = {i: box for box in drawing.boxes for i in box.layers}
    for e in drawing.edges:
        source, target = box_of[e.source], box_of[e.target]
        assert e.source == source.layers[-1] and e.target == target.layers[0]  # out of a run's end, into its start
        assert e.points[0] == (source.x + source.width // 2, source.y + BOX_H)
        assert e.points[-1][1] == target.y > source.y  # down to the target's top, a row or more below
        assert all(0 <= x <= drawing.width and 0 <= y <= drawing.height for x, y in e.points)
    rows = {}
    for box in drawing.boxes:
        rows.setdefault(box.y, []).append(box)
    for row in rows.values():
        row.sort(key=lambda b: b.x)
        assert all(a.x + a.width < b.x for a, b in zip(row, row[1:]))  # no two boxes of a row overlap
    assert all(0 <= b.x and b.x + b.width <= drawing.width and b.y + b.height <= drawing.height for b in drawing.boxes)


@pytest.mark.parametrize("name", ["resnet18", "googlenet", "unet", "bert_base", "llama2_7b", "shufflenet_v2_x1_0"])
def test_bundled_branching_specs_are_drawn_whole(name):
    graph = analyze(name)
    drawing = layout_graph(graph)
    check_layout(graph, drawing)
    assert "shows the first" not in drawing.note


def test_googlenet_is_a_box_per_branch_and_per_concat():
    graph = analyze("googlenet")
    drawing = layout_graph(graph)
    # 9 inception modules of 4 branches and a concat; input, conv1, maxpool1, conv2, conv3, maxpool2, maxpool3,
    # maxpool4, and the head (avgpool ... fc) between them
    assert len(drawing.boxes) == 9 * (4 + 1) + 9 == 54
    # 224 input connections, 198 - 54 of them inside boxes
    assert len(drawing.edges) == 224 - (198 - 54) == 80
    concat = {b.layers[0]: b for b in drawing.boxes}
    into = Counter(e.target for e in drawing.edges)
    for n in graph.nodes:
        if n.type == "concat":
            assert into[n.index] == 4 and len(concat[n.index].layers) == 1
    labels = {b.lines[0]: b for b in drawing.boxes}
    assert labels["inception3a/branch2_1/conv"].lines[1] == "6 layers · 101.15 M MACs"
    # shades by quarters of the costliest box, conv3's run (346.82 M MACs); a pool has none
    assert labels["conv3/conv"].shade == 4 and labels["maxpool2"].shade == 0


def test_a_chain_is_not_drawn_and_says_so():
    graph = analyze("vgg16")
    drawing = layout_graph(graph)
    assert drawing.boxes == [] and drawing.edges == []
    assert (
        len(graph.nodes) == 1 + 13 * 2 + 5 + 1 + 1 + 3 + 2 + 2
    )  # input, 13 conv+relu, 5 pools, adaptive pool, flatten, 3 dense, 2 relu, 2 dropout
    assert drawing.note == "A plain chain of 41 layers, each reading the one before: no drawing."


def test_a_large_graph_keeps_its_first_boxes_and_says_so():
    layers = []
    for i in range(30):  # 30 diamonds: a dense, then two denses both reading it and an add of theirs
        layers += [
            {"type": "dense", "units": 4, "name": f"d{i}"},
            {"type": "dense", "units": 4, "name": f"l{i}", "inputs": f"d{i}"},
            {"type": "dense", "units": 4, "name": f"r{i}", "inputs": f"d{i}"},
            {"type": "add", "name": f"a{i}", "inputs": [f"l{i}", f"r{i}"]},
        ]
    graph = build_graph(parse_spec({"name": "diamonds", "input": [4], "layers": layers}))
    drawing = layout_graph(graph, max_boxes=10)
    assert len(drawing.boxes) == 10
    # boxes: input+d0, then l0, r0, a0+d1, l1, r1, a1+d2, ...: the tenth is a2+d3 (layers 12 and 13)
    assert drawing.boxes[-1].layers == (12, 13)
    assert "The drawing shows the first 10 of 91 boxes (holding 14 of the 121 layers)" in drawing.note
    assert all(e.target <= 13 for e in drawing.edges) and len(drawing.edges) == 3 * (1 + 1 + 2)
    assert MAX_BOXES * 4 < 10_000  # the benchmark's 10,000 layers are capped (a run per two layers there)


def test_a_long_edge_gets_a_lane_through_the_rows_between(monkeypatch):
    layers = [{"type": "dense", "units": 4, "name": "a"}]
    layers += [
        {"type": "dense", "units": 4, "name": f"x{i}", "inputs": "a" if i == 0 else f"x{i - 1}"} for i in range(3)
    ]
    layers += [{"type": "add", "name": "y", "inputs": ["a", "x2"]}]
    graph = build_graph(parse_spec({"name": "skip", "input": [4], "layers": layers}))
    drawing = layout_graph(graph)
    check_layout(graph, drawing)
    skip = next(e for e in drawing.edges if e.source == 1 and e.target == 5)
    # input+a in row 0, x0..x2 (one run) in row 1, y in row 2: the skip edge goes down a lane through row 1
    assert len(skip.points) == 4 and skip.points[1][0] == skip.points[2][0] and not skip.long
    lane_x = skip.points[1][0]
    run = next(b for b in drawing.boxes if b.layers == (2, 3, 4))
    assert not run.x <= lane_x <= run.x + run.width  # beside the run, not through it
    monkeypatch.setattr("flopcount.drawing.MAX_LANES", 0)  # no lanes left: drawn straight, marked long
    skip = next(e for e in layout_graph(graph).edges if e.source == 1 and e.target == 5)
    assert len(skip.points) == 2 and skip.long


@st.composite
def random_dags(draw):
    """Specs of denses (one input) and adds (two or three inputs) wired at random on a vector input."""
    layers, names = [], ["input"]
    for i in range(draw(st.integers(1, 25))):
        name = f"n{i}"
        if draw(st.booleans()) and len(names) > 1:
            k = draw(st.integers(2, 3))
            inputs = [names[j] for j in draw(st.lists(st.integers(0, len(names) - 1), min_size=k, max_size=k))]
            layers.append({"type": "add", "name": name, "inputs": inputs})
        else:
            layers.append({"type": "dense", "units": 4, "name": name, "inputs": draw(st.sampled_from(names))})
        names.append(name)
    return {"name": "random", "input": [4], "layers": layers}


@settings(max_examples=150, deadline=None)
@given(random_dags())
def test_random_graphs_are_laid_out_whole(spec):
    graph = build_graph(parse_spec(spec))
    drawing = layout_graph(graph)
    if drawing.boxes:
        check_layout(graph, drawing)
    else:
        assert all(len(n.inputs) <= 1 for n in graph.nodes)
