"""Resource bounds: hostile specs fail fast, in little memory, with a clean error."""

import json
import time
import tracemalloc

import pytest

from flopcount import SpecError, build_graph, parse_spec


def bounded(fn, seconds=2.0, mebibytes=50):
    """Run fn; assert it took under `seconds` and allocated under `mebibytes` at its peak."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        return fn()
    finally:
        elapsed = time.perf_counter() - start
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
    spec = {"name": "big", "input": [10**9, 10**9, 3],
            "layers": [{"type": "conv2d", "filters": 64, "kernel": 3, "padding": "same", "bias": False}]}
    node = bounded(lambda: build_graph(parse_spec(json.dumps(spec)))).nodes[-1]
    assert node.shape == (10**9, 10**9, 64)
    assert node.macs == 64 * 10**9 * 10**9 * 3 * 3 * 3


def test_runner_refuses_billion_sized_input_before_allocating(cli, write_spec):
    spec = write_spec({"name": "big", "input": [10**9, 10**9, 3],
                       "layers": [{"type": "conv2d", "filters": 64, "kernel": 3, "padding": "same"}]})
    result = bounded(lambda: cli("run", spec, "--quiet"), mebibytes=20)
    assert result.exit_code == 2
    assert "at its peak (layer 1 'conv2d_1'), more than the limit of 4.00 GiB" in result.output
    assert "--batch" in result.output
    assert result.output.count("\n") == 1
