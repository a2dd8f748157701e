"""Resource bounds of the spec language: hostile specs finish or fail fast, in little memory."""

import time

import pytest
from test_limits import bounded  # time and peak memory

from flopcount import SpecError, build_graph, parse_spec
from flopcount.errors import suggest
from flopcount.expr import ExprError


def quick(fn, seconds):
    """Run fn and assert it took under `seconds` of CPU time (without tracing memory, which slows big-number arithmetic)."""
    start = time.process_time()  # CPU time, as bounded() measures
    try:
        return fn()
    finally:
        assert time.process_time() - start < seconds


def test_a_skipped_layer_repeated_a_trillion_times_is_refused_at_once():
    spec = {"name": "t", "input": [4], "layers": [{"type": "dropout", "when": False, "repeat": 10**12}]}
    with pytest.raises(SpecError, match="would expand to at least 1,000,000,000,001 layers"):
        bounded(lambda: parse_spec(spec))


def test_skipped_copies_count_against_the_layer_limit_even_when_the_count_is_an_expression():
    spec = {
        "name": "t",
        "input": [4],
        "variables": {"n": 10**12},
        "layers": [{"type": "dropout", "when": "i < 0", "repeat": "n"}],
    }
    with pytest.raises(SpecError, match="would expand to at least 1,000,000,000,001 layers"):
        bounded(lambda: parse_spec(spec))
    blocks = {"b": {"layers": [{"type": "dropout", "when": "i < 0", "repeat": "n"}]}}
    spec = {
        "name": "t",
        "input": [4],
        "variables": {"n": 1000},
        "blocks": blocks,
        "layers": [{"block": "b", "repeat": "n"}],
    }
    with pytest.raises(SpecError, match="more than 100,000"):
        bounded(lambda: parse_spec(spec))


def test_suggestions_over_tens_of_thousands_of_long_names_are_quick():
    names = [f"{'layer' * 40}_{k}" for k in reversed(range(50_000))]  # 200-character names, the nearest first
    # unbounded, difflib weighs all 50,000: about 20 s; bounded, 200 of them in milliseconds (3 s allows a loaded machine)
    assert quick(lambda: suggest("layer" * 40 + "_4999x", names), 3) == f" Did you mean '{names[0]}'?"
    assert quick(lambda: suggest("x" * 100_000, names), 1) == ""
    spec = {
        "name": "t",
        "input": [4],
        "layers": [
            {"type": "dropout", "name": "l" * 190, "repeat": 20_000},
            {"type": "flatten", "inputs": "l" * 189 + "_19999"},
        ],
    }
    with pytest.raises(SpecError, match="names no earlier layer. Did you mean '" + "l" * 190 + "_19999'"):
        quick(lambda: parse_spec(spec), 30)  # the expansion of 20,000 layers, mostly; the suggestion is milliseconds


def test_thousands_of_expressions_over_4000_bit_fractions_stop_at_the_work_budget():
    big = "3 ** 2000 / 7 ** 1300"  # 4,000 bits over 3,900
    sum_of = "(" + " + ".join(["x - x"] * 60) + ") / 2"
    spec = {
        "name": "t",
        "input": [4],
        "variables": {"x": big},
        "layers": [{"type": "dropout", "rate": sum_of, "repeat": 20_000}],
    }
    with pytest.raises(ExprError, match="more than the limit of 2,000,000 steps of work"):
        quick(lambda: build_graph(parse_spec(spec)), 20)  # 1 s on a quiet machine; unbounded, about 3 minutes
    variables = {"x": big, **{f"v{k}": sum_of for k in range(3000)}}
    with pytest.raises(SpecError, match="more than the limit of 2,000,000 steps of work"):
        quick(
            lambda: parse_spec({"name": "t", "input": [4], "variables": variables, "layers": [{"type": "flatten"}]}), 20
        )


def test_the_budget_grows_with_max_layers():
    spec = {"name": "t", "input": [4], "layers": [{"type": "dropout", "rate": "(1 + 2 + 3 + 4) / 20", "repeat": 999}]}
    build_graph(parse_spec(spec))  # about 7 steps a layer, far below 20 a layer
    with pytest.raises(ExprError, match="limit of 20,000 steps"):
        build_graph(
            parse_spec({**spec, "layers": [{**spec["layers"][0], "rate": " + ".join(["0"] * 30)}]}, max_layers=1000)
        )


def test_a_long_name_is_refused_before_a_repeat_copies_it():
    spec = {"name": "t", "input": [4], "layers": [{"type": "dropout", "name": "n" * 100_000, "repeat": 90_000}]}
    with pytest.raises(SpecError, match="attribute 'name': is longer than 200 characters"):
        bounded(lambda: parse_spec(spec))
    blocks = {"b": {"layers": [{"type": "dropout", "name": "x" * 200}]}}
    spec = {"name": "t", "input": [4], "blocks": blocks, "layers": [{"block": "b" * 201}]}
    with pytest.raises(SpecError, match="attribute 'block': is longer than 200 characters"):
        bounded(lambda: parse_spec(spec))


def test_names_nested_deep_stop_at_the_total_size_of_names():
    # 60 blocks deep, each instance named with 200 characters: every layer's name is 12,000 characters
    blocks = {"b0": {"layers": [{"type": "dropout", "name": "d" * 200}]}}
    for k in range(1, 60):
        blocks[f"b{k}"] = {"layers": [{"block": f"b{k - 1}", "name": "n" * 200}]}
    spec = {"name": "t", "input": [4], "blocks": blocks, "layers": [{"block": "b59", "name": "top", "repeat": 90_000}]}
    with pytest.raises(SpecError, match="names together pass 16,000,000 characters"):
        bounded(lambda: parse_spec(spec), seconds=30, mebibytes=120)  # unbounded: over 1 GB of names


def test_many_variables_are_not_copied_for_every_layer():
    # every layer sees 20,000 variables; a copy of them per layer would need 2,000 x 1.3 MB
    variables = {f"v{k}": k for k in range(20_000)}
    blocks = {"b": {"params": {"w": 1}, "layers": [{"type": "dropout", "rate": "0.5"}]}}
    spec = {
        "name": "t",
        "input": [4],
        "variables": variables,
        "blocks": blocks,
        "layers": [{"block": "b", "repeat": 2000}],
    }
    assert len(bounded(lambda: parse_spec(spec), seconds=30, mebibytes=40).layers) == 2001
