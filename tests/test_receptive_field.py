"""Receptive fields: the analyzer's computation, an independent one, and execution."""

import json

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from flopcount import build_graph, load_spec, parse_spec
from flopcount.layers import Conv2D
from flopcount.receptive import measure_receptive_fields, probe_size, verify_receptive_fields
from flopcount.runner import RunError
from flopcount.spec import resolve_path


def conv(k, s=1, d=1, **kw):
    return {"type": "conv2d", "filters": 4, "kernel": k, "stride": s, "dilation": d, "padding": "same", **kw}


# rf_out = rf_in + (k_eff - 1) x jump_in, jump_out = jump_in x stride, worked by hand per case
CASES = [
    ("one-3x3", [conv(3)], 3, 1),
    ("stacked-3x3x2", [conv(3), conv(3)], 3 + 2, 1),
    ("stacked-3x3x3", [conv(3), conv(3), conv(3)], 3 + 2 + 2, 1),
    ("strided-then-3x3", [conv(3, 2), conv(3)], 3 + 2 * 2, 2),
    ("two-strided", [conv(3, 2), conv(3, 2), conv(3)], 3 + 2 * 2 + 2 * 4, 2 * 2),
    ("1x1-stride2", [conv(1, 2), conv(3)], 1 + 2 * 2, 2),
    ("resnet-stem", [conv(7, 2), {"type": "max_pool", "pool": 3, "stride": 2, "padding": "same"}], 7 + 2 * 2, 4),
    ("max-pool-2", [conv(3), {"type": "max_pool", "pool": 2}, conv(3)], 3 + 1 + 2 * 2, 2),
    ("avg-pool-3-s1", [{"type": "avg_pool", "pool": 3, "stride": 1}], 3, 1),
    ("dilation-2", [conv(3, d=2)], 2 * 2 + 1, 1),
    ("dilation-1-2-4", [conv(3), conv(3, d=2), conv(3, d=4)], 3 + 4 + 8, 1),
    ("dilated-after-stride", [conv(3, 2), conv(3, d=3)], 3 + 6 * 2, 2),
    ("depthwise-separable", [{"type": "depthwise_conv2d", "kernel": 5, "stride": 2, "padding": "same"}, conv(1)], 5, 2),
    (
        "bn-relu-pad-free",
        [
            conv(3),
            {"type": "batch_norm"},
            {"type": "activation", "fn": "relu6"},
            {"type": "zero_pad", "padding": 1},
            conv(3, padding="valid"),
        ],
        5,
        1,
    ),
    ("asymmetric-1x3", [conv([1, 3])], (1, 3), 1),
]


def case_graph(layers, size=None, channels=3):
    shape = size or 32
    return build_graph(parse_spec({"name": "rf", "input": [shape, shape, channels], "layers": layers}))


@pytest.mark.parametrize("layers, rf, jump", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_computed_receptive_field(layers, rf, jump):
    rf = rf if isinstance(rf, tuple) else (rf, rf)
    node = case_graph(layers).nodes[-1]
    assert node.rf == rf and node.jump == (jump, jump)


@pytest.mark.parametrize("layers, rf, jump", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_receptive_field_confirmed_by_execution(layers, rf, jump):
    rf = rf if isinstance(rf, tuple) else (rf, rf)
    graph = case_graph(layers, size=probe_size(rf, (jump, jump)))
    for index, computed, computed_jump, measured in verify_receptive_fields(graph):
        assert not measured.clipped
        assert measured.rf == computed, graph.nodes[index].name
        assert measured.jump == computed_jump, graph.nodes[index].name
    assert measure_receptive_fields(graph)[len(graph.nodes) - 1].rf == rf


window_layer = st.one_of(
    st.builds(
        lambda k, s, d, p: conv(k, s, d, padding=p),
        st.integers(1, 4),
        st.integers(1, 2),
        st.integers(1, 2),
        st.sampled_from(["same", "valid"]),
    ),
    st.builds(
        lambda k, s, d: {"type": "depthwise_conv2d", "kernel": k, "stride": s, "dilation": d, "padding": "same"},
        st.integers(1, 4),
        st.integers(1, 2),
        st.integers(1, 2),
    ),
    st.builds(
        lambda t, k, s: {"type": t, "pool": k, "stride": s, "padding": "same"},
        st.sampled_from(["max_pool", "avg_pool"]),
        st.integers(2, 3),
        st.integers(1, 2),
    ),
)


@settings(max_examples=25, deadline=None)
@given(st.lists(window_layer, min_size=1, max_size=4))
def test_random_chains_measure_what_they_compute(layers):
    layers = [dict(layer, filters=3) if layer["type"] == "conv2d" else layer for layer in layers]
    last = case_graph(layers, size=128, channels=3).nodes[-1]
    size = probe_size(last.rf, last.jump) + max(last.rf)  # valid padding trims less than one field
    assume(size <= 100)
    graph = case_graph(layers, size=size, channels=3)
    for index, computed, jump, measured in verify_receptive_fields(graph):
        assert (measured.rf, measured.jump) == (computed, jump), graph.nodes[index].name


def test_residual_branch_takes_the_larger_field():
    layers = [conv(3, name="a"), conv(3, name="b"), {"type": "add", "inputs": ["input", "b"]}, conv(3)]
    graph = case_graph(layers, size=21, channels=4)
    assert graph.nodes[3].rf == (5, 5) and graph.nodes[-1].rf == (7, 7)
    measured = measure_receptive_fields(graph)
    assert measured[3].rf == (5, 5) and measured[len(graph.nodes) - 1].rf == (7, 7)


def test_paths_with_different_jumps_are_followed_apart():
    # a 21x21 valid conv (rf 21, jump 1) beside a 1x1 stride-2 shortcut (rf 1, jump 2), then a 3x3:
    # 21 + 2 x 1 = 23 on the long path and 1 + 2 x 2 = 5 on the short one, so 23 (not 21 + 2 x 2 = 25)
    layers = [
        {"type": "conv2d", "filters": 4, "kernel": 21, "name": "long"},
        {"type": "conv2d", "filters": 4, "kernel": 1, "stride": 2, "inputs": "input", "name": "short"},
        {"type": "add", "inputs": ["long", "short"]},
        conv(3, padding="valid"),
    ]
    graph = case_graph(layers, size=41, channels=2)
    assert graph.nodes[-1].rf == (23, 23)
    assert measure_receptive_fields(graph)[len(graph.nodes) - 1].rf == (23, 23)


def test_branches_offset_by_padding_widen_the_field():
    # two 3x3 branches, one padded above and one below: at output row 0 they see rows -2..0 and 0..2
    layers = [
        {"type": "conv2d", "filters": 2, "kernel": 3, "padding": [[2, 0], [2, 0]], "name": "up"},
        {"type": "conv2d", "filters": 2, "kernel": 3, "padding": [[0, 2], [0, 2]], "inputs": "input", "name": "down"},
        {"type": "add", "inputs": ["up", "down"]},
    ]
    graph = case_graph(layers, size=15, channels=2)
    assert graph.nodes[-1].rf == (5, 5)
    assert measure_receptive_fields(graph)[len(graph.nodes) - 1].rf == (5, 5)


def test_global_pool_covers_the_whole_map():
    graph = case_graph([conv(3, 2), {"type": "global_avg_pool"}], size=16)
    # 8x8 map with jump 2 behind a 3-wide field: 3 + (8 - 1) x 2
    assert graph.nodes[-1].rf == (3 + 7 * 2, 3 + 7 * 2)


def test_a_wrong_rule_is_caught_by_execution(monkeypatch):
    monkeypatch.setattr(
        Conv2D, "window", lambda self, shapes: tuple((k, s, 0) for k, s in zip(self.kernel, self.stride))
    )
    graph = case_graph([conv(3, d=2), conv(3, d=2)], size=21)  # dilation ignored: computes 5, runs 9
    ((_, computed, _, measured),) = verify_receptive_fields(graph, [len(graph.nodes) - 1])
    assert computed == (5, 5) and measured.rf == (9, 9)


def test_too_small_input_is_reported_as_clipped():
    graph = case_graph([conv(3), conv(3), conv(3)], size=7)
    assert measure_receptive_fields(graph)[3].clipped


def test_non_spatial_and_oversized_probes_are_refused():
    graph = case_graph([conv(3), {"type": "flatten"}], size=8)
    with pytest.raises(Exception, match="no spatial output"):
        measure_receptive_fields(graph, [2])
    with pytest.raises(RunError):
        measure_receptive_fields(case_graph([conv(3)], size=64), max_memory=1000)


# ---------------------------------------------------------------- VGG16


def independent_receptive_fields(spec):
    """The usual calculation over the spec's own kernel, pool and stride attributes, layer by layer."""
    rf, jump, out = 1, 1, {}
    for layer in spec.layers:
        raw = layer.raw
        if layer.type == "conv2d":
            k = raw["kernel"] + (raw["kernel"] - 1) * (raw.get("dilation", 1) - 1)
            s = raw.get("stride", 1)
        elif layer.type == "max_pool":
            k, s = raw["pool"], raw.get("stride", raw["pool"])
        else:
            k, s = 1, 1
        rf, jump = rf + (k - 1) * jump, jump * s
        out[layer.name] = (rf, jump)
    return out


def test_vgg16_receptive_fields():
    spec = load_spec("vgg16")
    graph = build_graph(spec)
    expected = independent_receptive_fields(spec)
    by_name = {n.name: n for n in graph.nodes}
    for node in graph.nodes:
        if len(node.shape) == 3:
            assert node.rf == (expected[node.name][0],) * 2, node.name
            assert node.jump == (expected[node.name][1],) * 2, node.name
    assert by_name["conv5_3/conv"].rf == (196, 196)
    assert by_name["pool5"].rf == (212, 212) and by_name["pool5"].jump == (32, 32)


def test_vgg16_stages_confirmed_by_execution():
    """VGG16's first three stages (4 filters each, so it runs in moments) measured against the analyzer."""
    doc = json.loads(resolve_path("vgg16").read_text())
    cut = next(i for i, e in enumerate(doc["layers"]) if e.get("name") == "pool3") + 1
    doc["layers"] = doc["layers"][:cut]
    for entry in doc["layers"]:
        if "filters" in entry:
            entry["filters"] = 4
    doc["variables"] = {"resolution": probe_size((44, 44), (8, 8))}
    doc.pop("expect", None)
    graph = build_graph(parse_spec(doc))
    assert graph.nodes[-1].rf == (44, 44)
    for index, computed, jump, measured in verify_receptive_fields(graph):
        assert (measured.rf, measured.jump) == (computed, jump), graph.nodes[index].name


def test_analyze_shows_receptive_field_and_jump(cli, write_spec):
    path = write_spec(
        {"name": "rf", "input": [32, 32, 3], "layers": [conv(3, 2), conv(3), {"type": "max_pool", "pool": 2}]}
    )
    data = json.loads(cli("analyze", path, "--format", "json").output)
    assert [(layer["receptive_field"], layer["jump"]) for layer in data["layers"]] == [
        ([1, 1], [1, 1]),
        ([3, 3], [2, 2]),
        ([7, 7], [2, 2]),
        ([9, 9], [4, 4]),
    ]
    table = cli("analyze", path).output
    assert "RF" in table


# ---------------------------------------------------------------- one and three spatial axes

# per axis by hand: rf_out = rf_in + (k_eff - 1) x jump_in, jump_out = jump_in x stride
RANK_CASES = [
    (
        "sequence",
        [12, 2],
        [
            {"type": "conv1d", "filters": 3, "kernel": 3, "padding": "same"},  # 3, jump 1
            {"type": "depthwise_conv1d", "kernel": 5, "stride": 2, "padding": "same"},  # 3 + 4 = 7, jump 2
            {"type": "max_pool1d", "pool": 3, "stride": 2, "padding": "same"},  # 7 + 2 x 2 = 11, jump 4
            {"type": "conv1d", "filters": 2, "kernel": 3, "dilation": 2, "padding": "same"},  # 11 + 4 x 4 = 27
        ],
        (27,),
        (4,),
    ),
    (
        "volume",
        [10, 10, 10, 2],
        [
            {"type": "conv3d", "filters": 3, "kernel": [1, 3, 3], "stride": [1, 2, 2], "padding": "same"},
            {"type": "depthwise_conv3d", "kernel": 3, "padding": "same"},  # (1 + 2, 3 + 2 x 2, same)
            {"type": "avg_pool3d", "pool": 2, "padding": "valid"},  # (3 + 1, 7 + 2, 7 + 2), jumps (2, 4, 4)
        ],
        (4, 9, 9),
        (2, 4, 4),
    ),
]


@pytest.mark.parametrize("input, layers, rf, jump", [c[1:] for c in RANK_CASES], ids=[c[0] for c in RANK_CASES])
def test_fields_of_rank_1_and_3_computed_per_axis_and_confirmed_by_execution(input, layers, rf, jump):
    node = build_graph(parse_spec({"name": "rf", "input": input, "layers": layers})).nodes[-1]
    assert (node.rf, node.jump) == (rf, jump)
    size = probe_size(rf, jump)
    probe = build_graph(parse_spec({"name": "rf", "input": [size] * (len(input) - 1) + input[-1:], "layers": layers}))
    results = verify_receptive_fields(probe)
    assert len(results) == len(layers)
    for index, computed, computed_jump, measured in results:
        assert not measured.clipped
        assert (measured.rf, measured.jump) == (computed, computed_jump), probe.nodes[index].name
    assert results[-1][3].rf == rf


def test_a_vector_input_has_no_spatial_axes(cli, write_spec):
    path = write_spec({"name": "v", "input": [8], "layers": [{"type": "dense", "units": 4}]})
    data = json.loads(cli("analyze", path, "--format", "json").output)
    assert [(layer["receptive_field"], layer["jump"]) for layer in data["layers"]] == [([], [])] * 2


def test_analyze_shows_a_field_per_axis_for_a_sequence(cli, write_spec):
    path = write_spec({"name": "s", "input": [16, 2], "layers": [{"type": "conv1d", "filters": 2, "kernel": 5}]})
    data = json.loads(cli("analyze", path, "--format", "json").output)
    assert data["layers"][-1]["receptive_field"] == [5] and data["layers"][-1]["jump"] == [1]


# ---------------------------------------------------------------- sequences and attention


@pytest.mark.parametrize("causal", [False, True])
def test_self_attention_sees_the_whole_sequence_confirmed_by_execution(causal):
    import numpy as np

    from flopcount.runner import forward

    graph = build_graph(
        parse_spec({"name": "rf", "input": [9, 4], "layers": [{"type": "attention", "heads": 2, "causal": causal}]})
    )
    assert graph.nodes[-1].rf == (9,)  # every query may read every key: the field is the whole sequence
    x = np.repeat(np.random.default_rng(0).standard_normal((1, 9, 4), dtype=np.float32), 9, axis=0)
    for r in range(9):
        x[r, r] = np.nan  # sample r has position r poisoned
    with np.errstate(all="ignore"):
        poisoned = np.isnan(forward(graph, x)[1]).any(axis=-1)  # (sample r, output position i)
    # every output reads every position, causal too: a masked key's weight is 0, but its value is still
    # multiplied (0 x NaN is NaN), as the counted MACs say (the causal kernel test checks that later
    # positions do not change earlier outputs)
    assert poisoned.all()
    assert measure_receptive_fields(graph)[1].clipped  # no output's field lies inside the sequence


def test_token_inputs_have_a_sequence_axis():
    spec = {
        "name": "t",
        "layers": [
            {"type": "input", "shape": [16], "tokens": 100},
            {"type": "embedding", "vocab": 100, "dim": 8},
            {"type": "attention", "heads": 2},
        ],
    }
    nodes = build_graph(parse_spec(spec)).nodes
    assert [(n.rf, n.jump) for n in nodes] == [((1,), (1,)), ((1,), (1,)), ((16,), (1,))]
