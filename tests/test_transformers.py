"""Attention against its primitives, shared weights, integer token inputs and learned parameter tensors."""

import json

import numpy as np
import pytest

from flopcount import ShapeError, SpecError, build_graph, parse_spec
from flopcount import runner as runner_module
from flopcount.runner import RunError, forward, make_weight, run_graph


def graph_of(layers, **spec):
    return build_graph(parse_spec({"name": "t", "layers": layers, **spec}))


# ---------------------------------------------------------------- attention as one layer = its primitives


def attention_from_primitives(length, width, heads, kv_heads):
    """Dense projections, split, reshape, transpose, matmul and softmax: the attention layer taken apart.

    The heads of a group share one key/value head: the queries of a group are stacked along
    the rows of one matrix product with that head's keys.
    """
    dh, group = width // heads, heads // kv_heads
    kv = kv_heads * dh
    return [
        {"type": "input", "shape": [length, width], "name": "x"},
        {"type": "dense", "units": width + 2 * kv, "name": "qkv"},
        {"type": "split", "sizes": [width, kv, kv], "index": 0, "name": "q", "inputs": "qkv"},
        {"type": "split", "sizes": [width, kv, kv], "index": 1, "name": "k", "inputs": "qkv"},
        {"type": "split", "sizes": [width, kv, kv], "index": 2, "name": "v", "inputs": "qkv"},
        # queries (L, kv_heads, group, dh) -> (kv_heads, group x L, dh)
        {"type": "reshape", "shape": [length, kv_heads, group, dh], "inputs": "q"},
        {"type": "transpose", "axes": [1, 2, 0, 3]},
        {"type": "reshape", "shape": [kv_heads, group * length, dh], "name": "q_heads"},
        {"type": "reshape", "shape": [length, kv_heads, dh], "inputs": "k"},
        {"type": "transpose", "axes": [1, 0, 2], "name": "k_heads"},
        {"type": "reshape", "shape": [length, kv_heads, dh], "inputs": "v"},
        {"type": "transpose", "axes": [1, 0, 2], "name": "v_heads"},
        {"type": "matmul", "transpose_b": True, "inputs": ["q_heads", "k_heads"], "name": "scores"},
        {"type": "softmax"},
        {"type": "matmul", "inputs": ["softmax_1", "v_heads"]},
        {"type": "reshape", "shape": [kv_heads, group, length, dh]},
        {"type": "transpose", "axes": [2, 0, 1, 3]},
        {"type": "reshape", "shape": [length, width]},
        {"type": "dense", "units": width, "name": "out"},
    ]


@pytest.mark.parametrize(
    "heads, kv_heads, causal",
    [(4, 4, False), (8, 2, True), (6, 1, True)],
    ids=["multi-head", "grouped-query-causal", "multi-query-causal"],
)
def test_attention_layer_equals_its_primitives_in_params_and_macs(heads, kv_heads, causal):
    length, width = 7, 48
    one = graph_of(
        [
            {"type": "input", "shape": [length, width], "name": "x"},
            {"type": "attention", "heads": heads, "kv_heads": kv_heads, "causal": causal},
        ]
    )
    parts = graph_of(attention_from_primitives(length, width, heads, kv_heads))
    assert parts.nodes[-1].shape == one.nodes[-1].shape == (length, width)
    assert (one.totals.params, one.totals.macs) == (parts.totals.params, parts.totals.macs)
    dh = width // heads
    # projections, QK^T, AV and the output, written out
    assert (
        one.totals.macs
        == length * width * (width + 2 * kv_heads * dh) + 2 * heads * length * length * dh + length * width * width
    )
    # the causal mask changes nothing in the count: the full products are computed, as a dense kernel does
    assert (
        one.totals.macs
        == graph_of(
            [{"type": "input", "shape": [length, width]}, {"type": "attention", "heads": heads, "kv_heads": kv_heads}]
        ).totals.macs
    )
    assert run_graph(parts).ok and run_graph(one).ok


def test_attention_from_primitives_computes_what_the_layer_computes():
    """With the layer's own weights handed to the primitives, the outputs agree (scores scaled the same)."""
    length, width, heads = 5, 12, 3
    one = graph_of(
        [{"type": "input", "shape": [length, width], "name": "x"}, {"type": "attention", "heads": heads, "name": "a"}]
    )
    node = one.nodes[1]
    w = {name: make_weight(node, name, 0) for name in node.weights}
    x = np.random.default_rng(1).standard_normal((2, length, width), dtype=np.float32)
    expected = forward(one, x)[1]
    dh = width // heads
    qkv = x @ w["qkv_kernel"] + w["qkv_bias"]
    q, k, v = (
        qkv[..., i * width : (i + 1) * width].reshape(2, length, heads, dh).transpose(0, 2, 1, 3) for i in range(3)
    )
    scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(dh)
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    mixed = (weights @ v).transpose(0, 2, 1, 3).reshape(2, length, width)
    np.testing.assert_allclose(expected, mixed @ w["out_kernel"] + w["out_bias"], rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------- shared weights


def tied(vocab=11, dim=6, head=None):
    head = head or {"type": "dense", "units": vocab, "bias": False, "share": "wte", "name": "head"}
    return [
        {"type": "input", "shape": [4], "tokens": vocab, "name": "ids"},
        {"type": "embedding", "vocab": vocab, "dim": dim, "name": "wte"},
        {"type": "layer_norm", "name": "ln"},
        head,
    ]


def test_shared_weights_count_once_and_their_macs_at_every_use():
    graph = graph_of(tied())
    wte, head = graph.nodes[1], graph.nodes[-1]
    assert (wte.params, head.params) == (11 * 6, 0)
    assert head.macs == 4 * 6 * 11
    assert head.owners == ("wte",) and head.shared == {"kernel": (wte, "table", True)}
    assert graph.totals.params == 11 * 6 + 2 * 6


def test_the_table_and_json_say_which_layer_owns_shared_weights(cli, write_spec):
    path = write_spec({"name": "t", "layers": tied()})
    assert "dense (weights of wte)" in cli("analyze", path).output
    assert "3 head (dense (weights of wte))" in cli("analyze", path, "--format", "html").output
    layers = json.loads(cli("analyze", path, "--format", "json").output)["layers"]
    assert [(layer["name"], layer["weights_of"], layer["params"]) for layer in layers[1:]] == [
        ("wte", [], 11 * 6),
        ("ln", [], 2 * 6),
        ("head", ["wte"], 0),
    ]


@pytest.mark.parametrize("tiled", [False, True], ids=["whole", "row-blocks"])
def test_a_tied_head_runs_on_the_embedding_table_transposed(monkeypatch, tiled):
    if tiled:  # the table and the head's kernel handed over in row blocks and column blocks
        monkeypatch.setattr(runner_module, "TILE_ELEMENTS", 20)
        monkeypatch.setattr(runner_module, "BLOCK_BYTES", 4 * 6 * 3)  # 3 rows of 6 per block
    graph = graph_of(tied())
    ids = np.array([[0, 3, 10, 3], [5, 5, 1, 0]])
    outs = forward(graph, ids, keep=[1, 2, 3])
    table = make_weight(graph.nodes[1], "table", 0)
    np.testing.assert_allclose(outs[1], table[ids])  # the lookup
    np.testing.assert_allclose(outs[3], outs[2] @ table.T, rtol=1e-5, atol=1e-5)  # the head: the same table, transposed
    result = run_graph(graph, batch=2)
    assert result.ok and [r.params for r in result.layers] == [0, 11 * 6, 2 * 6, 0]


def test_sharing_follows_a_chain_to_the_owner():
    layers = [
        {"type": "input", "shape": [3, 5]},
        {"type": "dense", "units": 5, "name": "a"},
        {"type": "dense", "units": 5, "name": "b", "share": "a"},
        {"type": "dense", "units": 5, "share": "b"},
    ]
    graph = graph_of(layers)
    a = graph.nodes[1]
    assert graph.nodes[3].shared == {"kernel": (a, "kernel", False), "bias": (a, "bias", False)}
    assert graph.totals.params == 5 * 5 + 5 and graph.totals.macs == 3 * 3 * 5 * 5
    assert run_graph(graph).ok


@pytest.mark.parametrize(
    "head, message",
    [
        (
            {"type": "dense", "units": 11, "share": "wte"},
            "shares the weights of 'wte', which has 1 (table), but this dense has 2 (kernel, bias).",
        ),
        (
            {"type": "dense", "units": 12, "bias": False, "share": "wte"},
            "its kernel of shape (6, 12) cannot be 'wte''s table of shape (11, 6): the shapes differ, also transposed.",
        ),
        ({"type": "dense", "units": 11, "bias": False, "share": "ids"}, "shares the weights of 'ids', which has 0"),
        ({"type": "activation", "fn": "relu", "share": "wte"}, "activation has no weights to share."),
    ],
    ids=["bias-unmatched", "different-shape", "owner-without-weights", "nothing-to-share"],
)
def test_shared_weights_that_do_not_fit_are_refused(head, message):
    with pytest.raises(ShapeError, match="share") as err:
        graph_of(tied(head=dict(head, name="head")))
    assert message in str(err.value) and err.value.attribute == "share"


def test_share_names_an_earlier_layer_and_not_from_a_block():
    with pytest.raises(
        SpecError, match="names no earlier layer. Did you mean 'wte'.* share the weights of layers above"
    ):
        graph_of(tied(head={"type": "dense", "units": 11, "bias": False, "share": "wt"}))
    with pytest.raises(SpecError, match="share applies to a layer, not to a block instance"):
        parse_spec(
            {
                "name": "t",
                "input": [4],
                "blocks": {"b": {"layers": [{"type": "dense", "units": 4}]}},
                "layers": [{"type": "dense", "units": 4, "name": "d"}, {"block": "b", "share": "d"}],
            }
        )


# ---------------------------------------------------------------- integer token inputs


def test_token_inputs_are_fed_random_valid_ids():
    graph = graph_of([{"type": "input", "shape": [50], "tokens": 7}, {"type": "embedding", "vocab": 7, "dim": 3}])
    ids = runner_module._inputs_for(graph, batch=4, seed=0)[0]
    assert ids.dtype.kind == "i" and ids.shape == (4, 50)
    assert ids.min() == 0 and ids.max() == 6  # 200 draws cover all 7 ids
    assert run_graph(graph, batch=4).ok


@pytest.mark.parametrize(
    "layers, message",
    [
        (
            [{"type": "input", "shape": [8]}, {"type": "embedding", "vocab": 5, "dim": 2}],
            "an embedding looks up integer token ids, but its input holds real values",
        ),
        (
            [{"type": "input", "shape": [8], "tokens": 6}, {"type": "embedding", "vocab": 5, "dim": 2}],
            "its input holds token ids up to 5, beyond a vocabulary of 5. Received: vocab=5, tokens=6",
        ),
        (
            [{"type": "input", "shape": [8], "tokens": 6}, {"type": "dense", "units": 2}],
            "dense cannot take integer token ids (the output of 'input_1'); an embedding turns them into vectors first.",
        ),
    ],
    ids=["floats-to-embedding", "ids-beyond-vocabulary", "ids-to-dense"],
)
def test_token_ids_and_real_values_do_not_mix(layers, message):
    with pytest.raises(ShapeError) as err:
        graph_of(layers)
    assert message in str(err.value)


def test_ids_pass_through_reshaping_to_an_embedding():
    graph = graph_of(
        [
            {"type": "input", "shape": [2, 6], "tokens": 9},
            {"type": "reshape", "shape": [12]},
            {"type": "slice", "stop": 4},
            {"type": "embedding", "vocab": 9, "dim": 2},
        ]
    )
    assert [n.tokens for n in graph.nodes] == [9, 9, 9, None]
    assert graph.nodes[-1].shape == (4, 2) and run_graph(graph).ok


def test_forward_takes_token_ids_and_refuses_floats_or_ids_out_of_range():
    graph = graph_of([{"type": "input", "shape": [3], "tokens": 4}, {"type": "embedding", "vocab": 4, "dim": 2}])
    assert forward(graph, np.array([[0, 1, 3]]))[1].shape == (1, 3, 2)
    for bad in (np.zeros((1, 3), np.float32), np.array([[0, 4, 1]])):
        with pytest.raises(RunError, match=r"holds token ids, integers in \[0, 4\)"):
            forward(graph, bad)


# ---------------------------------------------------------------- learned parameter tensors


def test_class_token_and_position_embedding_are_parameters_broadcast_over_the_batch():
    graph = graph_of(
        [
            {"type": "input", "shape": [4, 8], "name": "patches"},
            {"type": "parameter", "shape": [1, 8], "name": "cls"},
            {"type": "concat", "axis": 0, "inputs": ["cls", "patches"]},
            {"type": "parameter", "shape": [5, 8], "name": "pos"},
            {"type": "add", "inputs": ["concat_1", "pos"]},
        ]
    )
    assert [n.shape for n in graph.nodes] == [(4, 8), (1, 8), (5, 8), (5, 8), (5, 8)]
    assert graph.totals.params == 8 + 5 * 8
    x = np.random.default_rng(0).standard_normal((3, 4, 8), dtype=np.float32)
    out = forward(graph, x, keep=[2, 4])
    cls, pos = make_weight(graph.nodes[1], "value", 0), make_weight(graph.nodes[3], "value", 0)
    for b in range(3):
        np.testing.assert_allclose(out[2][b, 0], cls[0])
        np.testing.assert_allclose(out[4][b], np.concatenate([cls, x[b]]) + pos, rtol=1e-6)
    assert run_graph(graph, batch=3).ok


def test_a_parameter_takes_no_named_input():
    with pytest.raises(SpecError, match="parameter takes exactly 0 input"):
        graph_of([{"type": "input", "shape": [4]}, {"type": "parameter", "shape": [4], "inputs": "input_1"}])
