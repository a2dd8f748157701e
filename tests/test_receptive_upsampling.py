"""Receptive fields through layers that upsample (transposed convolution, pixel shuffle), confirmed by execution.

An upsampling layer's outputs do not all see the same number of inputs: output o of a
stride-2 transposed convolution with a 3-tap kernel reads one input when o is even and
two when it is odd. The analyzer follows such fields period by period; the NaN probe
measures them; the two must agree on the largest field and the largest jump.
"""

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from flopcount import ShapeError, build_graph, parse_spec
from flopcount.receptive import verify_receptive_fields


def graph(layers, size, channels=4):
    return build_graph(parse_spec({"name": "rf", "input": [size, size, channels], "layers": layers}))


def confirmed(layers, size):
    g = graph(layers, size)
    results = verify_receptive_fields(g)
    for index, computed, jump, measured in results:
        assert not measured.clipped, g.nodes[index].name
        assert (measured.rf, measured.jump) == (computed, jump), g.nodes[index].name
    return g.nodes[-1]


def transposed(k, s, p=0, **kw):
    return {"type": "conv2d_transpose", "filters": 4, "kernel": k, "stride": s, "padding": p, **kw}


def conv(k, s=1, **kw):
    return {"type": "conv2d", "filters": 4, "kernel": k, "stride": s, **kw}


@pytest.mark.parametrize(
    "layers, rf, jump",
    [
        # each output of a 2x2 stride-2 transposed convolution reads one input: the field stays, the step
        # between first positions is 1 every other output
        ([transposed(2, 2)], 1, 1),
        # a 3x3 convolution after it reads outputs o..o+2: inputs o/2 .. (o+2)/2, at most 2
        ([transposed(2, 2), conv(3)], 2, 1),
        # 3 taps at stride 2: odd outputs read two inputs
        ([transposed(3, 2, 1)], 2, 1),
        ([conv(3, 2), transposed(3, 2, 1), conv(3)], 3 + 2 * 2, 2),
        ([{"type": "pixel_shuffle", "factor": 2}, conv(2)], 2, 1),
        # pooled field 4 at jump 2; each output of the 4-tap stride-2 transposed convolution reads 2 pooled
        # positions, and a 3x3 after it reads 3: 4 + 2 x 2
        ([conv(3), {"type": "max_pool", "pool": 2}, transposed(4, 2, 1), conv(3)], 4 + 2 * 2, 2),
        # nearest by 2 repeats each input twice; bilinear reads two neighbours (PyTorch's half-pixel rule)
        ([{"type": "upsample", "scale": 2}, conv(3)], 2, 1),
        ([{"type": "upsample", "scale": 2, "mode": "bilinear"}], 2, 1),
        ([{"type": "upsample", "scale": 3, "mode": "bilinear", "align_corners": True}, conv(3)], 3, 1),
        ([conv(3, 2), {"type": "upsample", "size": 17}], 3, 2),
    ],
    ids=[
        "2x2-s2",
        "then-3x3",
        "3x3-s2",
        "down-up",
        "pixel-shuffle",
        "pool-then-up",
        "nearest",
        "bilinear",
        "bilinear-align",
        "size",
    ],
)
def test_upsampled_fields(layers, rf, jump):
    node = confirmed(layers, 24)
    assert node.rf == (rf, rf) and node.jump == (jump, jump)


def test_a_small_unet_field():
    """Two levels of the 2015 U-Net: valid 3x3s, a pool, an up-convolution, the skip map cropped and joined."""
    layers = [
        conv(3, name="e1"),
        conv(3, name="e2"),
        {"type": "max_pool", "pool": 2},
        conv(3),
        conv(3, name="b"),
        transposed(2, 2, name="up"),
        {"type": "crop", "inputs": ["e2", "up"], "name": "skip"},
        {"type": "concat", "inputs": ["skip", "up"]},
        conv(3),
        conv(3),
    ]
    node = confirmed(layers, 36)
    assert node.shape == (20, 20, 4)
    # the deep path: e2's field of 5 widens by 1 (pool) and 2 x 2 x 2 (two 3x3s at jump 2) to 14; the
    # up-convolution's outputs read one bottom position each, in pairs, so the two 3x3s after it read
    # outputs o..o+4, bottom positions o/2 .. (o+4)/2: 3 of them, 14 + 2 x 2
    assert node.rf == (14 + 2 * 2, 14 + 2 * 2) and node.jump == (2, 2)


up_layer = st.one_of(
    st.builds(lambda k, s, p: transposed(k, s, min(p, k - 1)), st.integers(1, 4), st.integers(1, 3), st.integers(0, 2)),
    st.builds(
        lambda k, s, p: conv(k, s, padding=p), st.integers(1, 3), st.integers(1, 2), st.sampled_from(["same", "valid"])
    ),
    st.just({"type": "pixel_shuffle", "factor": 2}),
    st.just({"type": "max_pool", "pool": 2}),
    st.builds(
        lambda m, s, a: {"type": "upsample", "scale": s, "mode": m, **({"align_corners": a} if m != "nearest" else {})},
        st.sampled_from(["nearest", "bilinear"]),
        st.sampled_from([2, 3, 1.5]),
        st.booleans(),
    ),
)


@settings(max_examples=30, deadline=None)
@given(st.lists(up_layer, min_size=1, max_size=4))
@example([{"type": "max_pool", "pool": 2}] * 3 + [{"type": "pixel_shuffle", "factor": 2}])
def test_random_up_and_down_chains_measure_what_they_compute(layers):
    layers = [
        dict(layer, filters=16)
        if layer["type"] == "conv2d_transpose" and i + 1 < len(layers) and layers[i + 1]["type"] == "pixel_shuffle"
        else layer
        for i, layer in enumerate(layers)
    ]
    try:
        last = graph(layers, 24).nodes[-1]
    except ShapeError:  # a window larger than what is left of the input
        assume(False)
    assume(min(last.shape[:-1]) >= 6 and max(last.shape[:-1]) <= 200)
    g = graph(layers, 24)
    for index, computed, jump, measured in verify_receptive_fields(g):
        if not measured.clipped:
            assert measured.rf == computed, g.nodes[index].name
            if measured.jump is None:  # no two neighbouring outputs both clear of the border
                continue
            periodic = any(period > 1 for axis in g.nodes[index].paths for period, _ in axis)
            if periodic:
                # outputs step by different amounts within a period (pixel shuffle after pooling: 0, 8, 0, ...);
                # the probe sees only the pairs clear of the border, so its largest step is at most the
                # computed one, and equal once a whole period lies inside
                assert all(m <= c for m, c in zip(measured.jump, jump)), g.nodes[index].name
            else:
                assert measured.jump == jump, g.nodes[index].name
