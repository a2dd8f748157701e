"""The graph in detail: defensive errors, bounds, shared weights and receptive fields at the edges.

Pins what a one-token change to flopcount/graph.py would alter and the broader tests let
through (its mutation score is in tests/mutation/RESULTS.md). Receptive fields are derived
by hand in comments, and confirmed by the NaN probe where the input is large enough to probe.
"""

import json

import pytest

from flopcount import build_graph, parse_spec
from flopcount import graph as graph_module
from flopcount.errors import FlopcountError, ShapeError, SpecError
from flopcount.graph import analyze
from flopcount.receptive import verify_receptive_fields
from flopcount.spec import FlatLayer, Spec


def build(layers, input_shape, **spec):
    return build_graph(parse_spec({"name": "t", "input": list(input_shape), "layers": layers, **spec}))


def probed(g):
    """Every node's computed (rf, jump) after checking the probe agrees wherever it can measure."""
    for index, computed, jump, measured in verify_receptive_fields(g):
        if not measured.clipped:
            assert measured.rf == computed, g.nodes[index].name
            if measured.jump is not None:
                assert measured.jump == jump, g.nodes[index].name
    return [(n.rf, n.jump) for n in g.nodes[1:]]


# ---------------------------------------------------------------- defensive errors


def test_a_recursion_error_while_building_is_a_spec_error_naming_the_layer(monkeypatch):
    def too_deep(*args, **kw):
        raise RecursionError

    monkeypatch.setattr(graph_module, "_node", too_deep)
    spec = parse_spec(
        {"name": "t", "input": [4], "layers": [{"type": "dense", "units": 2, "name": "fc"}]}, file="t.json"
    )
    with pytest.raises(SpecError) as err:
        build_graph(spec)
    assert (err.value.file, err.value.layer, err.value.name, err.value.message) == (
        "t.json",
        0,
        "input",
        "the spec is nested too deeply.",
    )


def test_layer_attributes_that_are_not_an_object_are_a_spec_error():
    # the spec loader never hands these over; a Spec built by other code might
    spec = Spec("t", [FlatLayer(0, "x", "input", ["shape", 4], {}, ())], file="t.json")
    with pytest.raises(SpecError) as err:
        build_graph(spec)
    assert str(err.value) == "t.json: layer 0 'x': layer attributes must be an object. Received: value=[\"shape\", 4]"


def test_an_output_dimension_of_exactly_10_to_the_15_is_allowed():
    node = build([{"type": "zero_pad", "padding": [[0, 1], [0, 0]]}], (10**15 - 1, 1, 1)).nodes[-1]
    assert node.shape == (10**15, 1, 1)
    with pytest.raises(ShapeError, match=r"its output shape \(1000000000000001, 1, 1\) has a dimension above 10\^15"):
        build([{"type": "zero_pad", "padding": [[0, 2], [0, 0]]}], (10**15 - 1, 1, 1))


@pytest.mark.parametrize(
    "layers, input_shape",
    [
        # a stride of 10^8, then 10^7 + 1 rows of padding before: the first position seen is -(10^15 + 10^8)
        (
            [
                {"type": "conv1d", "filters": 1, "kernel": 1, "stride": 10**8},
                {"type": "conv1d", "filters": 1, "kernel": 10**7 + 2, "padding": [[10**7 + 1, 0]]},
            ],
            (10**15, 1),
        ),
        # ... and the last position seen past 10^15: the same window without its padding, on a longer field
        (
            [
                {"type": "conv1d", "filters": 1, "kernel": 10**7, "stride": 10**7},
                {"type": "conv1d", "filters": 1, "kernel": 10**8, "dilation": 2, "padding": [[0, 10**8]]},
            ],
            (10**15, 1),
        ),
    ],
    ids=["far-before", "far-after"],
)
def test_a_receptive_field_beyond_10_to_the_15_is_refused(layers, input_shape):
    with pytest.raises(ShapeError) as err:
        build(layers, input_shape)
    assert (
        err.value.message
        == "its receptive field or jump on the input grows above 10^15 (1,000,000,000,000,000), the largest supported."
    )


def test_token_ids_into_a_layer_that_takes_values_is_about_its_inputs():
    with pytest.raises(ShapeError) as err:
        build_graph(
            parse_spec(
                {
                    "name": "t",
                    "layers": [
                        {"type": "input", "shape": [8], "tokens": 6, "name": "ids"},
                        {"type": "dense", "units": 2},
                    ],
                }
            )
        )
    assert err.value.attribute == "inputs"
    assert (
        err.value.message
        == "dense cannot take integer token ids (the output of 'ids'); an embedding turns them into vectors first."
    )


def test_input_shapes_are_for_model_files_only():
    with pytest.raises(SpecError) as err:
        analyze("vgg16", input_shapes={"input": [1, 3, 32, 32]})
    assert err.value.option == "input_shapes"


# ---------------------------------------------------------------- shared weights


def test_sharing_from_a_layer_without_weights_lists_none():
    layers = [
        {"type": "input", "shape": [4], "name": "x"},
        {"type": "activation", "fn": "relu", "name": "act"},
        {"type": "dense", "units": 4, "bias": False, "share": "act"},
    ]
    with pytest.raises(ShapeError) as err:
        build_graph(parse_spec({"name": "t", "layers": layers}))
    assert err.value.message == "shares the weights of 'act', which has 0 (none), but this dense has 1 (kernel)."


def test_a_weight_shared_at_its_own_shape_is_not_transposed_anywhere_in_a_chain():
    layers = [
        {"type": "input", "shape": [3, 5]},
        {"type": "dense", "units": 5, "name": "a", "bias": False},
        {"type": "dense", "units": 5, "name": "b", "share": "a", "bias": False},
        {"type": "dense", "units": 5, "name": "c", "share": "b", "bias": False},
    ]
    g = build_graph(parse_spec({"name": "t", "layers": layers}))
    a = g.nodes[1]
    assert [n.shared for n in g.nodes[2:]] == [{"kernel": (a, "kernel", False)}] * 2


# ---------------------------------------------------------------- receptive fields at the edges


def test_fields_and_jumps_are_exact_integers():
    g = build(
        [
            {"type": "upsample", "scale": 2, "mode": "bilinear"},
            {"type": "conv2d_transpose", "filters": 2, "kernel": 2},
            {"type": "conv2d", "filters": 2, "kernel": 1, "stride": 2},
        ],
        (9, 9, 2),
    )
    for node in g.nodes:
        assert all(type(v) is int for v in node.rf + node.jump), node.name
    assert json.loads(json.dumps(list(g.nodes[-1].jump))) == list(g.nodes[-1].jump)


def test_outputs_that_see_nothing_have_a_field_of_0():
    # a stride-3 transposed 1x1 convolution writes every third row and column; rows and columns 1
    # and 2 cropped out of it see no input at all
    g = build(
        [
            {"type": "conv2d_transpose", "filters": 2, "kernel": 1, "stride": 3},
            {"type": "crop", "cropping": [[1, 19], [1, 19]]},
        ],
        (8, 8, 2),
    )
    assert probed(g)[1][0] == (0, 0)


def test_a_gap_at_the_end_of_a_period_is_stepped_over():
    # a stride-2 transposed 1x1 conv: even outputs see input o / 2, odd ones nothing; a 1x1 conv reading
    # it keeps that pattern, so the field is 1 and the jump between outputs that see is 1
    g = build(
        [
            {"type": "conv1d_transpose", "filters": 2, "kernel": 1, "stride": 2},
            {"type": "conv1d", "filters": 2, "kernel": 1},
        ],
        (6, 2),
    )
    assert probed(g) == [((1,), (1,)), ((1,), (1,))]


def test_a_short_upsampled_output_keeps_its_own_positions():
    # transposed k3 s2 p2 on 2 positions gives 1 output, reading inputs 0 and 1 (taps 2 and 0): field 2
    g = build(
        [
            {"type": "conv1d_transpose", "filters": 2, "kernel": 3, "stride": 2, "padding": 2},
            {"type": "conv1d", "filters": 2, "kernel": 1},
        ],
        (2, 2),
    )
    assert [n.shape for n in g.nodes[1:]] == [(1, 2), (1, 2)]
    assert [(n.rf, n.jump) for n in g.nodes[1:]] == [((2,), (1,)), ((2,), (1,))]


def test_a_short_output_with_a_gap_upsampled():
    # transposed k3 s4 p2 on 2 positions: outputs 0, 1, 2 see input 0, nothing, input 1; doubled by nearest
    # upsampling, outputs 0-1 see input 0, 2-3 nothing, 4-5 input 1: field 1, and neighbours that both see
    # something (0-1, 4-5) see the same position, jump 0
    g = build(
        [
            {"type": "conv1d_transpose", "filters": 2, "kernel": 3, "stride": 4, "padding": 2},
            {"type": "upsample1d", "scale": 2, "mode": "nearest"},
        ],
        (2, 2),
    )
    assert [(n.rf, n.jump) for n in g.nodes[1:]] == [((1,), (1,)), ((1,), (0,))]


def test_a_1x1_map_joined_keeps_its_paths():
    # a 1x1 output is no broadcast: concatenating the input with itself sees what it sees
    g = build([{"type": "concat", "inputs": ["input", "input"]}], (1, 1, 2))
    assert (g.nodes[-1].rf, g.nodes[-1].jump) == ((1, 1), (1, 1))


def test_a_1x1_map_broadcast_over_2x2_is_seen_by_every_output():
    # squeeze-and-excitation in miniature: the 2x2 conv's one output sees the whole 2x2 input, and
    # multiplying it into the 2x2 map gives every output that whole field
    g = build(
        [
            {"type": "conv2d", "filters": 2, "kernel": 2, "name": "squeeze"},
            {"type": "multiply", "inputs": ["input", "squeeze"]},
        ],
        (2, 2, 2),
    )
    assert (g.nodes[-1].rf, g.nodes[-1].jump) == ((2, 2), (1, 1))
    assert g.nodes[-1].paths[0][(1, 0)] == ((0, 1),)


def test_a_short_output_keeps_a_phase_per_output_it_has():
    # upsampling 4 -> 6, pooling to 3, a stride-2 transposed 1x1 conv to 5 outputs: the last fields repeat
    # every 6 outputs, and a path keeps one phase per output up to that period, 5 here, none past its end
    g = build(
        [
            {"type": "upsample1d", "scale": 1.5, "mode": "linear", "align_corners": False},
            {"type": "max_pool1d", "pool": 2},
            {"type": "conv1d_transpose", "filters": 2, "kernel": 1, "stride": 2},
        ],
        (4, 2),
    )
    assert [n.shape for n in g.nodes[1:]] == [(6, 2), (3, 2), (5, 2)]
    assert [[(key[0], len(phases)) for key, phases in n.paths[0].items()] for n in g.nodes[1:]] == [
        [(3, 3)],
        [(3, 3)],
        [(6, 5)],
    ]


def test_a_field_that_repeats_every_65536_outputs_is_followed_and_one_more_is_refused():
    # nearest upsampling from n to n - 1 positions reads floor(o n / (n - 1)): its fields repeat every n - 1 outputs
    limit = graph_module.MAX_PERIOD
    g = build([{"type": "upsample1d", "size": limit}], (limit + 1, 1))
    assert list(g.nodes[-1].paths[0]) == [(limit, limit + 1)]
    with pytest.raises(ShapeError) as err:
        build([{"type": "upsample1d", "size": limit + 1}], (limit + 2, 1))
    assert (
        err.value.message
        == "its outputs' receptive fields repeat only every 65,537 positions; flopcount tracks them up to 65,536."
    )


def test_convention_errors_name_the_file(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"name": "t", "input": [4], "layers": [{"type": "dense", "units": 2}]}))
    g = analyze(path)
    with pytest.raises(FlopcountError) as err:
        g.under("no-such-tool")
    assert err.value.file == str(path)


def test_a_broadcast_input_that_sees_nothing_adds_nothing():
    # a 1x1 crop of the gaps of a stride-3 transposed conv sees no input; multiplied into the input map
    # and read by a 1x1 conv, the fields are the map's own
    g = build(
        [
            {"type": "conv2d_transpose", "filters": 2, "kernel": 1, "stride": 3, "name": "up"},
            {"type": "crop", "cropping": [[1, 20], [1, 20]], "name": "gap"},
            {"type": "multiply", "inputs": ["input", "gap"]},
            {"type": "conv2d", "filters": 2, "kernel": 1},
        ],
        (8, 8, 2),
    )
    assert [(n.shape[:2], n.rf, n.jump) for n in g.nodes[2:]] == [
        ((1, 1), (0, 0), (1, 1)),
        ((8, 8), (1, 1), (1, 1)),
        ((8, 8), (1, 1), (1, 1)),
    ]


def test_an_input_without_spatial_axes_listed_first_is_broadcast():
    g = build_graph(
        parse_spec(
            {
                "name": "t",
                "layers": [
                    {"type": "input", "shape": [2], "name": "v"},
                    {"type": "input", "shape": [4, 4, 2], "name": "x"},
                    {"type": "multiply", "inputs": ["v", "x"]},
                ],
            }
        )
    )
    assert (g.nodes[-1].rf, g.nodes[-1].jump) == ((1, 1), (1, 1))


def test_a_parameter_reads_no_input():
    # written after a layer, it does not take that layer as its input
    g = build(
        [
            {"type": "dense", "units": 3, "name": "fc"},
            {"type": "parameter", "shape": [4, 3], "name": "pos"},
            {"type": "add", "inputs": ["fc", "pos"]},
        ],
        (4, 3),
    )
    assert [n.inputs for n in g.nodes[1:]] == [(0,), (), (1, 2)]


def test_sharing_with_a_count_mismatch_lists_both_sides():
    layers = [
        {"type": "input", "shape": [4], "name": "x"},
        {"type": "dense", "units": 4, "name": "a"},
        {"type": "dense", "units": 4, "bias": False, "share": "a"},
    ]
    with pytest.raises(ShapeError) as err:
        build_graph(parse_spec({"name": "t", "layers": layers}))
    assert err.value.message == "shares the weights of 'a', which has 2 (kernel, bias), but this dense has 1 (kernel)."
