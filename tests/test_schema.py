"""`flopcount schema`: a JSON Schema from the registry that agrees with the loader."""

import json
from pathlib import Path

import jsonschema
import pytest

from flopcount import build_graph, parse_spec
from flopcount.errors import FlopcountError
from flopcount.layers import KINDS, REGISTRY, REQUIRED
from flopcount.schema import attribute_schema, spec_schema
from flopcount.spec import TOP_KEYS, bundled_dir

SCHEMA = spec_schema()
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
COMMITTED = Path(__file__).parents[1] / "flopcount" / "spec.schema.json"
BUNDLED = sorted(bundled_dir().glob("*.json"))


def schema_accepts(doc) -> bool:
    return VALIDATOR.is_valid(doc)


def loader_accepts(doc) -> bool:
    try:
        build_graph(parse_spec(doc))
    except FlopcountError:
        return False
    return True


def test_schema_is_valid_draft_2020_12():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_schema_covers_every_top_level_key_and_layer_type():
    assert set(SCHEMA["properties"]) == set(TOP_KEYS)
    assert set(SCHEMA["$defs"]["layer"]["properties"]["type"]["enum"]) == set(REGISTRY)
    for name, cls in REGISTRY.items():
        layer = SCHEMA["$defs"][f"layer.{name}"]
        assert layer["additionalProperties"] is False
        assert {a.name for a in cls.attrs} <= set(layer["properties"])
        assert set(layer["required"]) == {"type"} | {a.name for a in cls.attrs if a.default is REQUIRED}


def test_every_attribute_kind_has_a_schema():
    from flopcount.layers import Attr

    for kind in KINDS:
        assert attribute_schema(Attr("x", kind, choices=("a", "b")))


def test_attributes_carry_defaults_ranges_and_choices():
    conv = SCHEMA["$defs"]["layer.conv2d"]["properties"]
    assert conv["stride"]["default"] == 1 and conv["padding"]["default"] == "valid"
    assert conv["filters"]["anyOf"][0] == {"type": "integer", "minimum": 1}
    assert conv["filters"]["description"]
    act = SCHEMA["$defs"]["layer.activation"]["properties"]
    assert "relu6" in act["fn"]["enum"] and "default" not in act["alpha"]
    assert SCHEMA["$defs"]["layer.dropout"]["properties"]["rate"]["anyOf"][0]["exclusiveMaximum"] == 1


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_bundled_spec_validates_and_declares_the_schema(path):
    doc = json.loads(path.read_text())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in VALIDATOR.iter_errors(doc)]
    assert errors == []
    assert (path.parent / doc["$schema"]).resolve() == COMMITTED.resolve()


def test_committed_schema_file_is_current(cli):
    """flopcount/spec.schema.json is what `flopcount schema` prints; regenerate it with
    `flopcount schema > flopcount/spec.schema.json` after changing the registry."""
    result = cli("schema")
    assert result.exit_code == 0
    assert json.loads(result.output) == SCHEMA
    assert COMMITTED.read_text() == result.output, "regenerate it: flopcount schema > flopcount/spec.schema.json"


BASE = {"name": "t", "input": [8, 8, 3]}


def spec(*layers, **extra):
    return {**BASE, "layers": list(layers), **extra}


REJECTED = {
    "unknown type": spec({"type": "conv4d", "filters": 4, "kernel": 3}),
    "unknown attribute": spec({"type": "conv2d", "filters": 4, "kernel": 3, "filter": 4}),
    "misspelt attribute": spec({"type": "dense", "unit": 10}),
    "missing attribute": spec({"type": "conv2d", "kernel": 3}),
    "number for a boolean": spec({"type": "conv2d", "filters": 4, "kernel": 3, "bias": 1}),
    "boolean for an integer": spec({"type": "conv2d", "filters": True, "kernel": 3}),
    "list for an integer": spec({"type": "dense", "units": [10]}),
    "object for sizes": spec({"type": "conv2d", "filters": 4, "kernel": {"h": 3}}),
    "three sizes": spec({"type": "conv2d", "filters": 4, "kernel": [3, 3, 3]}),
    "zero filters": spec({"type": "conv2d", "filters": 0, "kernel": 3}),
    "unknown choice": spec({"type": "activation", "fn": "rleu"}),
    "misspelt padding": spec({"type": "conv2d", "filters": 4, "kernel": 3, "padding": "smae"}),
    "rate of one": spec({"type": "dropout", "rate": 1}),
    "negative epsilon": spec({"type": "batch_norm", "epsilon": -0.001}),
    "bad characters in an expression": spec({"type": "dense", "units": "10; 20"}),
    "type and block": spec({"type": "dense", "units": 3, "block": "b"}),
    "neither type nor block": spec({"units": 3}),
    "name with a slash": spec({"type": "dense", "units": 3, "name": "a/b"}),
    "unknown top-level key": spec({"type": "dense", "units": 3}, layer=[]),
    "no name": {"input": [3], "layers": [{"type": "dense", "units": 3}]},
    "empty layers": spec(),
    "no input": {"name": "t", "layers": [{"type": "dense", "units": 3}]},
    "expect with an unknown figure": spec({"type": "dense", "units": 3}, expect={"flops": 1}),
    "expect with a decimal": spec({"type": "dense", "units": 3}, expect={"params": 1.5}),
    "block definition without layers": spec({"block": "b"}, blocks={"b": {"params": {}}}),
    "number for a condition": spec({"type": "dense", "units": 3, "when": 1}),
}


@pytest.mark.parametrize("doc", REJECTED.values(), ids=REJECTED.keys())
def test_schema_rejects_what_the_loader_rejects(doc):
    if "expect" not in doc:  # the loader leaves expect to flopcount check
        assert not loader_accepts(doc)
    assert not schema_accepts(doc)


ACCEPTED = {
    "expressions": spec(
        {"type": "conv2d", "filters": "2 * width", "kernel": [3, "1 + 2"], "padding": [[1, 1], [0, "width - 4"]]},
        variables={"width": 4},
    ),
    "defaults only": spec({"type": "conv2d", "filters": 4, "kernel": 3}),
    "blocks and repeats": spec(
        {"block": "unit", "filters": 8, "repeat": "2"},
        blocks={"unit": {"params": {"filters": None}, "layers": [{"type": "conv2d", "filters": "filters", "kernel": 1}]}},
    ),
    "input layer instead of input": {"name": "t", "layers": [{"type": "input", "shape": [4]}, {"type": "dense", "units": 2}]},
    "expect per setting": spec(
        {"type": "dense", "units": "width"},
        variables={"width": 4},
        expect=[{"params": 1}, {"set": {"width": 8}, "macs": 2, "layers": {"dense_1": {"params": 3}}, "source": "x"}],
    ),
    "conditional entries": spec(
        {"type": "dense", "units": 4, "name": "wide", "when": "width > 2"},
        {"type": "dropout", "when": False},
        variables={"width": 4},
    ),
    "inputs by name": spec(
        {"type": "conv2d", "filters": 3, "kernel": 1, "name": "a"},
        {"type": "add", "inputs": ["input", "a"]},
    ),
}


@pytest.mark.parametrize("doc", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_schema_accepts_what_the_loader_accepts(doc):
    assert loader_accepts(doc)
    assert schema_accepts(doc)
