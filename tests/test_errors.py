"""Errors are data: library errors say which option and value, and only the CLI spells an option as a flag."""

import ast
import re
from pathlib import Path

import click
import pytest

from flopcount.check import parse_tolerance
from flopcount.cli import main
from flopcount.compare import Sizes, compare
from flopcount.errors import FlopcountError
from flopcount.runner import parse_bytes
from flopcount.spec import parse_overrides, parse_spec

PACKAGE = Path(__file__).parent.parent / "flopcount"
TINY = {"name": "tiny", "input": [4], "variables": {"width": 2}, "layers": [{"type": "dense", "units": "width"}]}


def cli_flags() -> set[str]:
    """Every long option of every command, as the CLI spells it."""
    return {
        o
        for cmd in main.commands.values()
        for p in cmd.params
        if isinstance(p, click.Option)
        for o in p.opts
        if o.startswith("--")
    } - {"--help"}


@pytest.mark.parametrize(
    "call, option, text",
    [
        (lambda: parse_bytes("plenty"), "max_memory", "max_memory takes a size such as 4GiB"),
        (lambda: parse_tolerance("200%"), "tolerance", "tolerance takes a percentage"),
        (lambda: parse_overrides(["alpha"]), "overrides", "overrides takes NAME=VALUE"),
        (
            lambda: parse_spec(TINY, overrides={"depth": "3"}),
            "overrides",
            "overrides depth: the spec has no such variable",
        ),
        (
            lambda: parse_spec(TINY, overrides={"width": "wide"}),
            "overrides",
            "overrides width: undefined variable 'wide'",
        ),
        (lambda: parse_spec(TINY, max_layers=1), "max_layers", "raise it with max_layers if that is intended"),
        (lambda: compare("standard", "depthwise", Sizes(N=4)), "M", "block 'standard' needs M, its number of input"),
        (lambda: compare("standard", "depthwise", Sizes(M=3, N=10**15 + 1)), "N", "N must be at most 10^15"),
        (lambda: compare("3x3x2", "5x5", Sizes(M=3, N=4)), "C", "give C, or M equal to N"),
    ],
    ids=["max-memory", "tolerance", "set-form", "set-unknown", "set-value", "max-layers", "M", "N", "C"],
)
def test_library_errors_name_the_option_not_a_flag(call, option, text):
    with pytest.raises(FlopcountError) as err:
        call()
    assert err.value.option == option
    assert text in str(err.value) and "--" not in str(err.value)


@pytest.mark.parametrize(
    "args, line",
    [
        (
            ["run", "vgg16", "--max-memory", "plenty"],
            "Error: --max-memory takes a size such as 4GiB, 512MiB or 1.5G. Received: plenty",
        ),
        (
            ["check", "vgg16", "--tolerance", "200%"],
            "Error: --tolerance takes a percentage from 0 up to (not including) 100, such as 0.5%. Received: 200%",
        ),
        (["analyze", "vgg16", "--set", "alpha"], "Error: --set takes NAME=VALUE, such as alpha=0.75. Received: alpha"),
        (
            ["analyze", "vgg16", "--set", "classes=many"],
            "Error: vgg16: --set classes: undefined variable 'many' in expression 'many'.",
        ),
        (
            ["analyze", "vgg16", "--max-layers", "3"],
            "Error: vgg16: layer 1 'conv1': attribute 'repeat': the spec would expand to at least 5 "
            "layers, more than the limit of 3; raise it with --max-layers if that is intended.",
        ),
        (
            ["compare", "standard", "depthwise", "--N", "4"],
            "Error: block 'standard' needs --M, its number of input channels. Received: M=None",
        ),
        (
            ["compare", "standard", "depthwise", "--M", "3", "--N", str(10**16)],
            "Error: --N must be at most 10^15 (1,000,000,000,000,000). Received: N=10000000000000000",
        ),
        (
            ["compare", "inverted_residual", "standard", "--M", str(10**15), "--N", "3", "--DF", "3"],
            "Error: block 'inverted_residual' expands M to t × M = 6,000,000,000,000,000 channels, more than 10^15, the "
            "largest a spec takes. Received: t=6, M=1000000000000000",
        ),
    ],
    ids=["max-memory", "tolerance", "set-form", "set-value", "max-layers", "M-missing", "N-too-large", "t-times-M"],
)
def test_the_cli_spells_the_option_as_its_flag(cli, args, line):
    result = cli(*args)
    assert result.exit_code == 2
    assert result.output == line + "\n"


def _raised_strings(path: Path):
    """(line, text) of every string literal inside a raise statement of a module."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Raise):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Constant) and isinstance(inner.value, str):
                    yield inner.lineno, inner.value


def test_no_library_error_spells_a_cli_flag():
    flags = cli_flags()
    assert {"--max-memory", "--tolerance", "--set", "--M", "--max-layers", "--update"} <= flags
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "cli.py":
            continue
        for line, text in _raised_strings(path):
            found += [
                f"{path.name}:{line}: {flag}"
                for flag in flags
                if re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", text)
            ]
    assert found == []


def test_no_code_branches_on_the_text_of_a_message():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare) and any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops):
                for side in [node.left, *node.comparators]:
                    # err.message, or str(err) of a caught exception
                    if (isinstance(side, ast.Attribute) and side.attr == "message") or (
                        isinstance(side, ast.Call)
                        and getattr(side.func, "id", None) == "str"
                        and any(getattr(a, "id", None) in ("err", "error", "exc", "e") for a in side.args)
                    ):
                        found.append(f"{path.name}:{node.lineno}")
    assert found == []


def test_a_misspelt_padding_mode_is_told_apart_from_an_undefined_variable_by_the_name():
    from flopcount import SpecError, build_graph

    def padding(value):
        spec = {
            "name": "p",
            "input": [8, 8, 3],
            "layers": [{"type": "conv2d", "filters": 4, "kernel": 3, "padding": value}],
        }
        with pytest.raises(SpecError) as err:
            build_graph(parse_spec(spec))
        return str(err.value)

    assert "must be 'same', 'valid' or explicit amounts. Did you mean 'same'?" in padding("sane")
    # a word inside an expression is an undefined variable, not a padding mode
    assert "undefined variable 'sane' in expression 'sane + 1'" in padding("sane + 1")


def test_a_message_template_never_reads_the_values_it_is_given_as_a_template():
    err = FlopcountError.about("tolerance", "{tolerance} is wrong. Received: {text}", text="{tolerance} {0} {x.y}")
    assert str(err) == "tolerance is wrong. Received: {tolerance} {0} {x.y}"
    assert err.text(lambda option: "--" + option) == "--tolerance is wrong. Received: {tolerance} {0} {x.y}"
    assert FlopcountError("a {literal} message").message == "a {literal} message"
