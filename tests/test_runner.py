"""The NumPy runner: every layer case executes and agrees; wrong rules, memory limits and freeing."""

import json
import weakref

import numpy as np
import pytest
from layer_cases import CASES, case_spec

from flopcount import build_graph, kernels, parse_spec
from flopcount.graph import analyze
from flopcount.layers import REGISTRY, Conv2D, Weight
from flopcount.runner import BASE_BYTES, RunError, estimate_peak, forward, parse_bytes, run_graph
from flopcount.spec import bundled_dir

BATCH = 2


def graph_of(spec):
    return build_graph(parse_spec(spec))


def chain(*layers, input=(6, 6, 3)):
    return graph_of({"name": "chain", "input": list(input), "layers": list(layers)})


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_layer_case_runs_and_agrees(case):
    result = run_graph(graph_of(case_spec(case)), batch=BATCH)
    run = result.layers[-1]
    assert run.error is None
    assert run.shape == case.shape
    assert (run.trainable, run.non_trainable) == (case.trainable, case.non_trainable)
    assert run.metered_macs == BATCH * case.macs
    assert result.ok


def test_every_registered_type_is_executed_by_a_case():
    executed = {"input"} | {c.layer["type"] for c in CASES}
    assert set(REGISTRY) <= executed, f"no runner case for {sorted(set(REGISTRY) - executed)}"


def test_a_wrong_mac_rule_is_reported(monkeypatch):
    rule = Conv2D.macs
    monkeypatch.setattr(Conv2D, "macs", lambda self, shapes, out: rule(self, shapes, out) + 1)
    graph = chain({"type": "conv2d", "filters": 4, "kernel": 3, "name": "c1"}, {"type": "activation", "fn": "relu"})
    result = run_graph(graph)
    assert not result.ok
    (bad,) = result.mismatches
    assert (bad.name, bad.shape_ok, bad.params_ok, bad.macs_ok) == ("c1", True, True, False)
    assert (bad.macs, bad.expected_macs) == (4 * 4 * 4 * 3 * 3 * 3, 4 * 4 * 4 * 3 * 3 * 3 + 1)


def test_run_exits_1_naming_the_layer_and_both_figures(cli, write_spec, monkeypatch):
    rule = Conv2D.macs
    monkeypatch.setattr(Conv2D, "macs", lambda self, shapes, out: rule(self, shapes, out) + 1)
    path = write_spec(
        {"name": "t", "input": [6, 6, 3], "layers": [{"type": "conv2d", "filters": 4, "kernel": 3, "name": "c1"}]}
    )
    result = cli("run", path)
    assert result.exit_code == 1
    assert "layer 1 'c1' (conv2d): MACs: analyzer 1,729, run 1,728" in result.output
    assert "✗" in result.output


def test_a_wrong_weight_rule_is_reported(monkeypatch):
    rule = Conv2D.weights
    # declares a bias of the wrong length: the kernel refuses it
    monkeypatch.setattr(Conv2D, "weights", lambda self, shapes: {**rule(self, shapes), "bias": Weight((5,))})
    result = run_graph(chain({"type": "conv2d", "filters": 4, "kernel": 3, "name": "c1"}, {"type": "flatten"}))
    first, second = result.layers[1:]
    assert "bias of shape (5,)" in first.error
    assert second.error == "not run: input 'c1' did not run"
    assert not result.ok


def test_an_unread_weight_is_a_params_mismatch(monkeypatch):
    rule = Conv2D.weights
    monkeypatch.setattr(
        Conv2D, "weights", lambda self, shapes: {**rule(self, shapes), "unused": Weight((7,), trainable=False)}
    )
    (bad,) = run_graph(chain({"type": "conv2d", "filters": 4, "kernel": 3})).mismatches
    assert (bad.non_trainable, bad.expected_non_trainable, bad.params_ok) == (0, 7, False)


def flags_flipped(rule):
    """A weights rule with every declared trainable flag inverted."""
    return lambda self, shapes: {n: Weight(w.shape, not w.trainable, w.init) for n, w in rule(self, shapes).items()}


def test_statistics_are_what_the_kernel_used_as_statistics_not_the_declared_flag(monkeypatch):
    from flopcount.layers import BatchNorm

    monkeypatch.setattr(BatchNorm, "weights", flags_flipped(BatchNorm.weights))
    (bad,) = run_graph(chain({"type": "batch_norm"})).mismatches
    # the moving mean and variance (2 x 3 channels) are statistics, whatever was declared; gamma and beta
    # are as declared, here non-trainable: the flipped flags make the run see 12 fixed values, not 6 and 6
    assert (bad.trainable, bad.non_trainable) == (0, 4 * 3)
    assert (bad.expected_trainable, bad.expected_non_trainable) == (2 * 3, 2 * 3)


def test_statistics_declared_trainable_are_a_params_mismatch(monkeypatch):
    from flopcount.layers import BatchNorm

    rule = BatchNorm.weights
    monkeypatch.setattr(
        BatchNorm,
        "weights",
        lambda self, shapes: {n: Weight(w.shape, True, w.init) for n, w in rule(self, shapes).items()},
    )
    (bad,) = run_graph(chain({"type": "batch_norm", "scale": False})).mismatches
    assert (bad.trainable, bad.non_trainable, bad.expected_non_trainable) == (3, 2 * 3, 0)


def test_a_wrong_shape_rule_is_reported(monkeypatch):
    rule = REGISTRY["max_pool"].output_shape

    def wrong(self, shapes):
        h, w, c = rule(self, shapes)
        return (h - 1, w - 1, c)

    monkeypatch.setattr(REGISTRY["max_pool"], "output_shape", wrong)
    # (7, 7) pooled by 2 runs to (3, 3), not the (2, 2) the patched rule claims
    (bad,) = run_graph(chain({"type": "max_pool", "pool": 2}, input=(7, 7, 3))).mismatches
    assert (bad.shape, bad.expected_shape, bad.shape_ok) == ((3, 3, 3), (2, 2, 3), False)


# ---------------------------------------------------------------- memory


def test_memory_refusal_suggests_a_smaller_batch():
    graph = chain({"type": "conv2d", "filters": 8, "kernel": 3})
    with pytest.raises(RunError, match="Use a smaller batch or input shape, or a higher memory limit") as err:
        run_graph(graph, batch=64, max_memory=BASE_BYTES + 100_000)
    assert "Received: batch=64" in str(err.value)
    # a caller names its own options
    with pytest.raises(RunError, match=r"\. Lower --DF\. Received: batch=64"):
        run_graph(graph, batch=64, max_memory=BASE_BYTES + 100_000, advice="Lower --DF.")


def test_run_exits_2_when_memory_is_refused(cli):
    result = cli("run", "vgg16", "--max-memory", "64MiB")
    assert result.exit_code == 2
    assert "smaller --batch" in result.output


def test_peak_estimate_is_the_largest_working_set():
    graph = chain({"type": "conv2d", "filters": 8, "kernel": 3, "padding": 1, "name": "c"}, {"type": "global_avg_pool"})
    peak, where = estimate_peak(graph, batch=2)
    assert where.name == "c"
    live_input = 2 * 6 * 6 * 3
    out, weights, padded, cols = 2 * 6 * 6 * 8, 3 * 3 * 3 * 8 + 8, 2 * 8 * 8 * 3, 2 * 6 * 6 * 3 * 3 * 3
    # the output, one output-sized temporary, and the padded input and im2col buffers
    assert peak == BASE_BYTES + 4 * (live_input + 2 * out + weights + padded + cols)


def test_peak_estimate_covers_what_a_run_holds():
    """The scratch buffers of an early layer stay held while a later layer's weights exist."""
    graph = chain(
        {"type": "conv2d", "filters": 4, "kernel": 3, "padding": 1},
        {"type": "flatten", "name": "f"},
        {"type": "dense", "units": 50, "name": "d"},
        input=(10, 10, 3),
    )
    peak, where = estimate_peak(graph)
    assert where.name == "d"
    cols, padded = 10 * 10 * 3 * 3 * 3, 12 * 12 * 3
    live, out, weights = 10 * 10 * 4, 50, 400 * 50 + 50
    assert peak == BASE_BYTES + 4 * (live + 2 * out + weights + cols + padded)


@pytest.mark.parametrize(
    "text, size", [("4GiB", 4 * 2**30), ("512 MiB", 512 * 2**20), ("1.5G", 3 * 2**29), ("1000", 1000), ("2kb", 2048)]
)
def test_parse_bytes(text, size):
    assert parse_bytes(text) == size


def test_parse_bytes_refuses_nonsense():
    with pytest.raises(RunError, match="Received: lots"):
        parse_bytes("lots")


def test_activations_are_freed_once_no_later_layer_needs_them(monkeypatch):
    """Each dense output must be gone while the layer two steps later runs; the skip input survives until the add."""
    outputs = {}
    dense = kernels.dense

    def tracked(x, kernel, bias):
        out = dense(x, kernel, bias)
        outputs[len(outputs) + 1] = weakref.ref(out)
        return out

    monkeypatch.setattr(kernels, "dense", tracked)
    graph = graph_of(
        {
            "name": "t",
            "input": [8],
            "layers": [
                {"type": "dense", "units": 8, "name": "d1"},
                {"type": "dense", "units": 8, "name": "d2"},
                {"type": "dense", "units": 8, "name": "d3"},
                {"type": "add", "inputs": ["d1", "d3"], "name": "sum"},
                {"type": "dense", "units": 8, "name": "d4"},
                {"type": "softmax", "name": "out"},
            ],
        }
    )
    alive = {}

    def progress(done, total, node):
        alive[node.name] = {k for k, ref in outputs.items() if ref() is not None}

    run_graph(graph, progress=progress)
    # right after each layer: only what a later layer still reads (and the layer's own output)
    assert alive == {"input": set(), "d1": {1}, "d2": {1, 2}, "d3": {1, 3}, "sum": set(), "d4": {4}, "out": set()}


def test_weights_exist_only_while_their_layer_runs(monkeypatch):
    seen = []
    dense = kernels.dense

    def tracked(x, kernel, bias):
        seen.append(weakref.ref(kernel))
        return dense(x, kernel, bias)

    monkeypatch.setattr(kernels, "dense", tracked)
    graph = chain({"type": "dense", "units": 4, "name": "d1"}, {"type": "dense", "units": 4, "name": "d2"}, input=(4,))
    dead = {}
    run_graph(graph, progress=lambda done, total, node: dead.setdefault(node.name, [ref() is None for ref in seen]))
    assert dead == {"input": [], "d1": [True], "d2": [True, True]}


# ---------------------------------------------------------------- forward()


def test_forward_is_deterministic_per_seed():
    graph = chain(
        {"type": "conv2d", "filters": 4, "kernel": 3}, {"type": "global_avg_pool"}, {"type": "dense", "units": 3}
    )
    x = np.random.default_rng(0).standard_normal((2, 6, 6, 3), dtype=np.float32)
    a, b, c = (forward(graph, x, seed=s)[3] for s in (0, 0, 1))
    assert a.shape == (2, 3)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_forward_keeps_the_requested_outputs_and_sees_a_pixel_only_in_its_receptive_field():
    graph = chain(
        {"type": "conv2d", "filters": 2, "kernel": 3, "name": "c"},
        {"type": "activation", "fn": "tanh"},
        input=(7, 7, 1),
    )
    x = np.zeros((1, 7, 7, 1), np.float32)
    y = x.copy()
    y[0, 3, 3, 0] = 1.0
    before, after = forward(graph, x, keep=[1])[1], forward(graph, y, keep=[1])[1]
    changed = np.argwhere((before != after).any(axis=-1)[0])
    # a 3x3 valid conv output (i, j) reads input rows i..i+2: pixel (3, 3) reaches outputs 1..3
    assert {tuple(p) for p in changed} == {(i, j) for i in range(1, 4) for j in range(1, 4)}


def test_forward_checks_the_input_shape():
    with pytest.raises(RunError, match="Received: shape"):
        forward(chain({"type": "flatten"}), np.zeros((1, 5, 5, 3), np.float32))


def test_forward_takes_one_array_per_input_layer():
    graph = graph_of(case_spec(next(c for c in CASES if c.id == "add")))
    with pytest.raises(RunError, match="Received: no array for x1"):
        forward(graph, np.zeros((1, 56, 56, 256), np.float32))
    a, b = (np.full((1, 56, 56, 256), v, np.float32) for v in (1.0, 2.0))
    np.testing.assert_array_equal(forward(graph, {0: a, 1: b})[2], a + b)


# ---------------------------------------------------------------- command line


def test_run_exits_0_and_prints_the_verdict(cli, write_spec):
    path = write_spec(
        {
            "name": "t",
            "input": [8, 8, 3],
            "layers": [
                {"type": "conv2d", "filters": 4, "kernel": 3},
                {"type": "flatten"},
                {"type": "dense", "units": 5},
            ],
        }
    )
    result = cli("run", path, "--batch", "3", "--seed", "5")
    assert result.exit_code == 0, result.output
    params = 3 * 3 * 3 * 4 + 4 + 6 * 6 * 4 * 5 + 5
    macs = 4 * 6 * 6 * 3 * 3 * 3 + 6 * 6 * 4 * 5
    assert f"✓ All 4 layers agree with the analysis: shapes, {params:,} params and {macs:,} MACs." in result.output


def test_run_json(cli, write_spec):
    path = write_spec({"name": "t", "input": [4], "layers": [{"type": "dense", "units": 2}]})
    result = cli("run", path, "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["ok"] and data["mismatches"] == []
    assert data["layers"][1]["macs"] == {"run": 4 * 2, "analyzer": 4 * 2, "ok": True}
    assert data["totals"]["params"] == {"run": 4 * 2 + 2, "analyzer": 4 * 2 + 2}


def test_analyze_verify(cli, write_spec, monkeypatch):
    path = write_spec(
        {"name": "t", "input": [6, 6, 3], "layers": [{"type": "conv2d", "filters": 4, "kernel": 3, "name": "c1"}]}
    )
    ok = cli("analyze", path, "--verify")
    assert ok.exit_code == 0 and "✓ All 2 layers agree" in ok.output
    as_json = cli("analyze", path, "--verify", "--format", "json")
    assert as_json.exit_code == 0
    json.loads(as_json.stdout)  # the verdict goes to stderr beside machine formats
    rule = Conv2D.macs
    monkeypatch.setattr(Conv2D, "macs", lambda self, shapes, out: rule(self, shapes, out) * 2)
    bad = cli("analyze", path, "--verify")
    assert bad.exit_code == 1
    assert "layer 1 'c1' (conv2d): MACs: analyzer 3,456, run 1,728" in bad.output


def test_run_reports_bad_options(cli):
    result = cli("run", "vgg16", "--max-memory", "plenty")
    assert result.exit_code == 2
    assert "--max-memory takes a size" in result.output


# ---------------------------------------------------------------- bundled specs

SMALL = {"resolution": "64", "classes": "10", "seq": "16", "context": "16", "depth": "2", "vocab": "1000", "ffn": "512"}
SMALL_FOR = {"unet": {"resolution": "188"}}  # the U-Net's tile side is 16 m + 124 with m >= 4


@pytest.mark.parametrize("path", sorted(bundled_dir().glob("*.json")), ids=lambda p: p.stem)
def test_bundled_spec_runs_and_agrees(path):
    variables = json.loads(path.read_text()).get("variables", {})
    small = SMALL_FOR.get(path.stem, SMALL)
    graph = analyze(path, {k: v for k, v in small.items() if k in variables})
    result = run_graph(graph)
    assert result.ok, [(r.name, r.error) for r in result.mismatches]


def test_a_tiled_weight_has_the_values_of_the_whole_array_and_gives_the_same_product(monkeypatch):
    from flopcount import runner

    monkeypatch.setattr(runner, "TILE_ELEMENTS", 100)
    monkeypatch.setattr(runner, "BLOCK_BYTES", 4 * 7 * 30)  # 7 rows of 30 per block
    graph = chain({"type": "dense", "units": 30, "name": "d"}, input=(50,))
    node = graph.nodes[1]
    tiled = runner.Weights(node, seed=3)["kernel"]
    assert isinstance(tiled, runner.TiledWeight)
    assert [rows.stop - rows.start for rows, _ in tiled.row_blocks()] == [7] * 7 + [1]
    whole = runner.make_weight(node, "kernel", seed=3)
    x = np.random.default_rng(0).standard_normal((3, 50), dtype=np.float32)
    with kernels.metering() as meter:
        out = kernels.dense(x, tiled, None)
    assert meter.macs == 3 * 50 * 30
    np.testing.assert_allclose(out, x @ whole, rtol=1e-5, atol=1e-5)
    result = run_graph(graph, batch=3)
    assert result.ok and result.layers[1].trainable == 50 * 30 + 30


def test_every_output_is_finite_float32():
    graph = analyze("resnet18", {"resolution": "64", "classes": "10"})
    x = np.random.default_rng(0).standard_normal((2, 64, 64, 3), dtype=np.float32)
    outs = forward(graph, x, keep=[n.index for n in graph.nodes])
    assert len(outs) == len(graph.nodes)
    for i, out in outs.items():
        assert out.dtype == np.float32, graph.nodes[i].name
        assert np.isfinite(out).all(), graph.nodes[i].name


def test_progress_bar_only_on_a_terminal():
    import io

    from rich.console import Console

    from flopcount import render

    with render.run_progress(Console(file=io.StringIO())) as progress:
        assert progress is None
    with render.run_progress(Console(file=io.StringIO(), force_terminal=True), enabled=False) as progress:
        assert progress is None
    screen = io.StringIO()
    graph = chain({"type": "flatten", "name": "flat"})
    with render.run_progress(Console(file=screen, force_terminal=True)) as progress:
        run_graph(graph, progress=progress)
    assert "2/2" in screen.getvalue()


def test_run_table_drawn_directly_equals_richs_table():
    import io

    from rich.console import Console

    from flopcount.render import to_console
    from flopcount.report import run_blocks

    graph = chain({"type": "conv2d", "filters": 2, "kernel": 3, "name": "c"}, {"type": "flatten"})
    result = run_graph(graph)
    consoles = [
        Console(file=io.StringIO(), width=160, color_system=None, highlight=False, force_terminal=t)
        for t in (True, False)
    ]
    for console in consoles:
        to_console(run_blocks(result), console)
    terminal, pipe = (c.file.getvalue() for c in consoles)
    assert terminal == pipe and "✓" in pipe and "forward" in pipe


# ---------------------------------------------------------------- working set and hostile runs


def traced_peak(graph, batch):
    """Bytes NumPy and Python held at most while the graph ran (tracemalloc sees NumPy's buffers)."""
    import tracemalloc

    from flopcount import runner

    runner._pool(0)  # the weight pool is the process's, in BASE_BYTES
    tracemalloc.start()
    try:
        result = run_graph(graph, batch=batch, max_memory=None)
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


WORKING_SETS = {
    "conv-padded": ([40, 40, 16], {"type": "conv2d", "filters": 32, "kernel": 3, "padding": 1}),
    "conv3d": ([8, 24, 24, 8], {"type": "conv3d", "filters": 16, "kernel": 3, "padding": 1}),
    "depthwise-gemm": ([48, 48, 8], {"type": "depthwise_conv2d", "kernel": 11, "padding": 5}),
    "max-pool-large": ([96, 96, 8], {"type": "max_pool", "pool": 40, "stride": 1}),
    "avg-pool-large": ([96, 96, 8], {"type": "avg_pool", "pool": 40, "stride": 1}),
    # many more outputs than inputs: the float64 running sums and bin sums dominate
    "adaptive-up": ([32, 32, 8], {"type": "adaptive_avg_pool", "size": 300}),
    "adaptive-down": ([96, 96, 8], {"type": "adaptive_avg_pool", "size": 7}),
}
SLACK = 64 * 2**10  # Python's own objects while the layer runs


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_memory_estimate_covers_what_each_layer_case_holds(case):
    graph = graph_of(case_spec(case))
    result, peak = traced_peak(graph, BATCH)
    assert result.ok
    assert peak <= estimate_peak(graph, BATCH)[0] - BASE_BYTES + SLACK


@pytest.mark.parametrize("input, layer", WORKING_SETS.values(), ids=WORKING_SETS.keys())
def test_memory_estimate_covers_each_kernels_working_set(input, layer):
    graph = chain(layer, input=input)
    result, peak = traced_peak(graph, 2)
    estimate = estimate_peak(graph, 2)[0] - BASE_BYTES
    assert result.ok
    assert peak <= estimate + SLACK
    assert estimate <= 2 * peak  # and not so far above that valid runs are refused


@pytest.mark.parametrize(
    "layer",
    [
        {"type": "depthwise_conv2d", "kernel": 2500},
        {"type": "max_pool", "pool": 2500},
        {"type": "avg_pool", "pool": [2500, 1250], "stride": [1, 1250]},
    ],
)
def test_a_huge_window_runs_in_moments(layer):
    """6.25 million taps: no Python loop per tap (the old per-tap loops took minutes)."""
    import time

    start = time.perf_counter()
    result = run_graph(chain(layer, input=(2500, 2500, 1)))
    assert result.ok
    assert time.perf_counter() - start < 20


def test_a_huge_depthwise_window_sums_every_tap():
    x = np.ones((1, 2500, 2500, 1), np.float32)
    x[0, 7, 9, 0] = 3.0
    with kernels.metering() as meter:
        out = kernels.depthwise_conv(x, np.ones((2500, 2500, 1, 1), np.float32), None, (1, 1), ((0, 0), (0, 0)), (1, 1))
    assert out.shape == (1, 1, 1, 1) and float(out[0, 0, 0, 0]) == 2500 * 2500 + 2
    assert meter.macs == 2500 * 2500


def test_running_out_of_memory_in_a_layer_is_a_run_error_not_a_mismatch(monkeypatch):
    def exhausted(*args):
        raise MemoryError("Unable to allocate 4.00 PiB for an array")

    monkeypatch.setattr(kernels, "conv", exhausted)
    graph = chain({"type": "conv2d", "filters": 4, "kernel": 3, "name": "c1"})
    with pytest.raises(RunError, match=r"layer 1 'c1': the machine ran out of memory \(Unable to allocate 4.00 PiB"):
        run_graph(graph)


def test_running_out_of_memory_exits_2_with_one_line(cli, write_spec):
    # 10^8 x 10^8 inputs: 40 PB, beyond any address space, so NumPy refuses at once
    path = write_spec({"name": "t", "input": [10**8, 10**8, 1], "layers": [{"type": "activation", "fn": "relu"}]})
    result = cli("run", path, "--max-memory", "16777216T")  # 2^64 bytes, the largest
    assert result.exit_code == 2
    assert "the machine ran out of memory" in result.output and "Use a smaller batch or input shape." in result.output
    assert "disagree" not in result.output and "Traceback" not in result.output


def test_numpy_warnings_about_random_values_stay_quiet():
    """139 doublings overflow float32 and softmax meets inf - inf: the run agrees, and NumPy says nothing."""
    import warnings

    layers = [{"type": "activation", "fn": "linear", "name": "l0"}]
    layers += [{"type": "add", "inputs": [f"l{i - 1}", f"l{i - 1}"], "name": f"l{i}"} for i in range(1, 140)]
    graph = chain(*layers, {"type": "softmax"}, input=(4,))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run_graph(graph)
    assert result.ok
    assert [str(w.message) for w in caught] == []
