"""Resource bounds: hostile specs fail fast, in little memory, with a clean error."""

import json
import time
import tracemalloc

import pytest

from flopcount import ShapeError, SpecError, build_graph, parse_spec


def bounded(fn, seconds=2.0, mebibytes=50):
    """Run fn; assert it took under `seconds` of CPU time and allocated under `mebibytes` at its peak."""
    tracemalloc.start()
    start = time.process_time()  # CPU time: a shared, loaded machine does not stretch it
    try:
        return fn()
    finally:
        elapsed = time.process_time() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert elapsed < seconds, f"took {elapsed:.2f} s"
        assert peak < mebibytes * 2**20, f"peak {peak / 2**20:.1f} MiB"


def nested_repeats(depth, times):
    blocks = {"b0": {"layers": [{"type": "dropout"}]}}
    for k in range(1, depth):
        blocks[f"b{k}"] = {"layers": [{"block": f"b{k - 1}", "repeat": times}]}
    return {"name": "bomb", "input": [4], "blocks": blocks, "layers": [{"block": f"b{depth - 1}"}]}


def test_exponential_repeat_fails_fast():
    with pytest.raises(SpecError, match="would expand to at least 100,000,000,000,000,000,001 layers"):
        bounded(lambda: parse_spec(nested_repeats(21, 10)))


def test_repeat_counted_by_an_expression_fails_from_its_first_copy():
    # the inner count is an expression, so no static bound sees it; the first copy of the outer repeat does
    spec = nested_repeats(3, 1000)
    spec["variables"] = {"n": 1000}
    spec["blocks"]["b1"]["layers"][0]["repeat"] = "n"
    with pytest.raises(SpecError, match="repeat of 1,000 would expand to about 1,000,001 layers"):
        bounded(lambda: parse_spec(spec))


def test_recursive_block_is_detected():
    blocks = {"a": {"layers": [{"block": "b"}]}, "b": {"layers": [{"type": "dropout"}, {"block": "a"}]}}
    spec = {"name": "loop", "input": [4], "blocks": blocks, "layers": [{"block": "a"}]}
    with pytest.raises(SpecError, match=r"block 'a' uses itself \(a -> b -> a\)"):
        bounded(lambda: parse_spec(spec))


def test_deep_block_chain_is_capped_not_a_stack_overflow():
    blocks = {f"b{k}": {"layers": [{"block": f"b{k - 1}"}] if k else [{"type": "dropout"}]} for k in range(5000)}
    spec = {"name": "deep", "input": [4], "blocks": blocks, "layers": [{"block": "b4999"}]}
    with pytest.raises(SpecError, match="blocks are nested more than 64 deep"):
        bounded(lambda: parse_spec(spec))


def test_deeply_nested_json_is_an_error():
    text = '{"name": "x", "input": [4], "layers": ' + "[" * 200_000 + "]" * 200_000 + "}"
    with pytest.raises(SpecError, match="nested too deeply"):
        bounded(lambda: parse_spec(text), mebibytes=200)


def test_billion_sized_dimensions_are_analysed_exactly():
    spec = {
        "name": "big",
        "input": [10**9, 10**9, 3],
        "layers": [{"type": "conv2d", "filters": 64, "kernel": 3, "padding": "same", "bias": False}],
    }
    node = bounded(lambda: build_graph(parse_spec(json.dumps(spec)))).nodes[-1]
    assert node.shape == (10**9, 10**9, 64)
    assert node.macs == 64 * 10**9 * 10**9 * 3 * 3 * 3


def test_runner_refuses_billion_sized_input_before_allocating(cli, write_spec):
    spec = write_spec(
        {
            "name": "big",
            "input": [10**9, 10**9, 3],
            "layers": [{"type": "conv2d", "filters": 64, "kernel": 3, "padding": "same"}],
        }
    )
    result = bounded(lambda: cli("run", spec, "--quiet"), mebibytes=20)
    assert result.exit_code == 2
    assert "at its peak (layer 1 'conv2d_1'), more than the limit of 4.00 GiB" in result.output
    assert "--batch" in result.output
    assert result.output.count("\n") == 1


# ---------------------------------------------------------------- numbers far beyond a float


def test_integer_attributes_and_dimensions_are_at_most_10_to_the_15():
    with pytest.raises(SpecError, match=r"'units': must be at most 10\^15 \(1,000,000,000,000,000\)\. Received: units"):
        build_graph(parse_spec({"name": "x", "input": [4], "layers": [{"type": "dense", "units": 10**15 + 1}]}))
    with pytest.raises(SpecError, match="'shape': must be a list of at most 8 dimensions"):
        build_graph(parse_spec({"name": "x", "input": [2] * 9, "layers": [{"type": "flatten"}]}))
    # an output dimension is bounded too: concat and zero_pad make one larger than their inputs'
    with pytest.raises(ShapeError, match=r"its output shape \(2000000000000000,\) has a dimension above 10\^15"):
        build_graph(
            parse_spec({"name": "x", "input": [10**15], "layers": [{"type": "concat", "inputs": ["input", "input"]}]})
        )


def test_the_largest_spec_renders_in_every_format(cli, write_spec):
    """Eight axes of 10^15 and a dense layer of 10^15 units: 10^135 MACs stay exact and printable."""
    spec = write_spec({"name": "largest", "input": [10**15] * 8, "layers": [{"type": "dense", "units": 10**15}]})
    for fmt in ("table", "json", "csv", "markdown"):
        result = bounded(lambda fmt=fmt: cli("analyze", spec, "--format", fmt, "--flops"))
        assert result.exit_code == 0, result.output
        assert f"{10**135:,}" in result.output or str(10**135) in result.output


def test_human_and_fmt_bytes_are_exact_at_any_size():
    from flopcount.report import human
    from flopcount.runner import fmt_bytes

    assert human(138_357_544) == "138.36 M"
    assert human(10**400) == "1" + "0" * 388 + ".00 T"  # n / 10**12 as a float overflowed
    assert fmt_bytes(3 * 2**29) == "1.50 GiB"
    assert fmt_bytes(2**1100).endswith(" GiB")


def test_fractions_beyond_a_float_are_shown_exactly(cli, write_spec):
    from fractions import Fraction

    from flopcount.compare_report import decimal, percent
    from flopcount.errors import spec_error

    huge = Fraction(10**400 + 1, 3)
    assert "Received: a=" in str(spec_error("bad.", attribute="a", received=huge))
    assert decimal(huge).startswith("3333") and percent(huge).endswith(" %")
    spec = write_spec(
        {"name": "v", "input": [4], "variables": {"big": "10**400 / 7"}, "layers": [{"type": "dense", "units": 2}]}
    )
    table = cli("analyze", spec)
    assert table.exit_code == 0 and "big=" in table.output
    data = json.loads(cli("analyze", spec, "--format", "json").output)
    assert Fraction(data["variables"]["big"]) == Fraction(10**400, 7)


# ---------------------------------------------------------------- command-line values


def test_max_memory_with_thousands_of_digits_is_a_clean_error(cli):
    from flopcount.runner import RunError, parse_bytes

    with pytest.raises(RunError, match=r"at most 16 EiB \(2\^64 bytes\)\. Received: 9{37}\.\.\.$"):
        parse_bytes("9" * 5000)
    assert parse_bytes("0" * 5000 + "1k") == 1024
    assert parse_bytes("0." + "9" * 5000 + "k") == 1023
    result = cli("run", "vgg16", "--max-memory", "9" * 5000)
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert result.output.startswith("Error: --max-memory must be at most 16 EiB")


def test_negative_seeds_are_refused(cli):
    import numpy as np

    from flopcount.runner import RunError, forward, run_graph

    result = cli("run", "vgg16", "--seed", "-1")
    assert result.exit_code == 2 and "-1 is not in the range x>=0" in result.output
    graph = build_graph(parse_spec({"name": "x", "input": [4], "layers": [{"type": "dense", "units": 2}]}))
    for call in (lambda: run_graph(graph, seed=-1), lambda: forward(graph, np.zeros((1, 4)), seed=-1)):
        with pytest.raises(RunError, match=r"the seed must be an integer >= 0\. Received: seed=-1"):
            call()


def test_analyze_verify_takes_max_memory_and_its_advice_fits(cli):
    result = cli("analyze", "vgg16", "--verify", "--max-memory", "64MiB", "--format", "json")
    assert result.exit_code == 2
    error = result.output.splitlines()[-1]
    assert error.startswith("Error: running VGG16 at batch 1 needs about")
    assert "more than the limit of 64.00 MiB" in error and "raise --max-memory" in error
    assert "--batch" not in error  # analyze has no --batch
    assert cli("analyze", "vgg16", "--verify", "--max-memory", "plenty").output.startswith("Error: --max-memory takes")


def test_max_layers_default_is_the_spec_limit(monkeypatch):
    import importlib

    from flopcount import cli, spec

    monkeypatch.setattr(spec, "MAX_LAYERS", 1234)
    try:
        fresh = importlib.reload(cli)
        (option,) = [p for p in fresh.main.commands["analyze"].params if p.name == "max_layers"]
        assert option.default == 1234
    finally:
        monkeypatch.undo()
        importlib.reload(cli)
