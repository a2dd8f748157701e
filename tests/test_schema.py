"""`flopcount schema`: a JSON Schema from the registry that agrees with the loader."""

import json
import os
import re
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_fuzz import mutate

from flopcount import build_graph, parse_spec
from flopcount.check import parse_expect
from flopcount.errors import FlopcountError
from flopcount.layers import KINDS, REGISTRY, REQUIRED
from flopcount.schema import VALUES, attribute_schema, merge_types, spec_schema
from flopcount.spec import (
    BLOCK,
    ENTRY,
    KIND_KEYS,
    TOP,
    TOP_KEYS,
    bundled_dir,
    parse_json,
)

SCHEMA = spec_schema()
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
COMMITTED = Path(__file__).parents[1] / "flopcount" / "spec.schema.json"
BUNDLED = sorted(bundled_dir().glob("*.json"))


def schema_accepts(doc) -> bool:
    return VALIDATOR.is_valid(doc)


def loader_accepts(doc) -> bool:
    """The loader and check's reading of expect (the loader leaves expect to check)."""
    try:
        build_graph(parse_spec(doc))
        if doc.get("expect", {}) is None:
            return False  # check reads "expect": null as no expect: nothing to compare, exit status 1
        parse_expect(doc.get("expect"), doc.get("variables", {}) if isinstance(doc, dict) else {})
    except FlopcountError:
        return False
    return True


def test_schema_is_valid_draft_2020_12():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_schema_covers_every_top_level_key_and_layer_type():
    assert set(SCHEMA["properties"]) == set(TOP_KEYS)
    assert set(SCHEMA["$defs"]["layer_type"]["enum"]) == set(REGISTRY)
    for name, cls in REGISTRY.items():
        layer = SCHEMA["$defs"][f"layer.{name}"]
        assert layer["unevaluatedProperties"] is False
        assert {a.name for a in cls.attrs} == set(SCHEMA["$defs"][f"attributes.{name}"]["properties"])
        assert {"type"} | {a.name for a in cls.attrs if a.default is REQUIRED} <= set(layer["required"])


def test_the_spec_level_part_is_the_loaders_key_tables():
    defs = SCHEMA["$defs"]
    assert list(SCHEMA["properties"]) == [k.name for k in TOP]
    assert SCHEMA["required"] == [k.name for k in TOP if k.required]
    assert all(SCHEMA["properties"][k.name]["description"] == k.doc for k in TOP)
    assert list(defs["block"]["properties"]) == [k.name for k in BLOCK]
    assert set(defs["layer.conv2d"]["properties"]) == {"type"} | {k.name for k in ENTRY}
    assert set(defs["block_instance"]["properties"]) == {"block"} | {k.name for k in ENTRY if "block" in k.kinds}
    assert set(defs["branches"]["properties"]) == {k.name for k in KIND_KEYS["branches"]} | {
        k.name for k in ENTRY if "branches" in k.kinds
    }
    assert defs["merge_type"]["enum"] == merge_types()
    assert {"add", "concat", "multiply", "matmul"} <= set(merge_types()) and "flatten" not in merge_types()
    used = {k.value for table in (TOP, ENTRY, BLOCK, *KIND_KEYS.values()) for k in table}
    assert used == set(VALUES)  # every value shape has a schema, and every schema is used


def test_the_readme_documents_every_key():
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    section = readme[readme.index("<!-- section: spec -->") : readme.index("<!-- /section: spec -->")]
    for table in (TOP, ENTRY, BLOCK, *KIND_KEYS.values()):
        for key in table:
            assert f"`{key.name}`" in section, key.name
    for key in [k for t in (TOP, ENTRY, BLOCK, *KIND_KEYS.values()) for k in t if k.name not in ("$schema", "expect")]:
        assert f'"{key.name}":' in section, f"no example of {key.name}"  # shown in an example, not only named


def test_every_attribute_kind_has_a_schema():
    from flopcount.layers import Attr

    for kind in KINDS:
        assert attribute_schema(Attr("x", kind, choices=("a", "b")))


def test_attributes_carry_defaults_ranges_and_choices():
    conv = SCHEMA["$defs"]["attributes.conv2d"]["properties"]
    assert conv["stride"]["default"] == 1 and conv["padding"]["default"] == "valid"
    assert conv["filters"]["anyOf"][0]["anyOf"][0] == {"type": "integer", "minimum": 1, "maximum": 10**15}
    assert conv["filters"]["anyOf"][1] == {"$ref": "#/$defs/reference"}  # or a name that holds it
    assert conv["filters"]["description"]
    act = SCHEMA["$defs"]["attributes.activation"]["properties"]
    assert "relu6" in act["fn"]["anyOf"][0]["enum"] and "default" not in act["alpha"]
    assert SCHEMA["$defs"]["attributes.dropout"]["properties"]["rate"]["anyOf"][0]["anyOf"][0]["exclusiveMaximum"] == 1


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
    "filters above 10^15": spec({"type": "conv2d", "filters": 10**15 + 1, "kernel": 1}),
    "rate of one": spec({"type": "dropout", "rate": 1}),
    "negative epsilon": spec({"type": "batch_norm", "epsilon": -0.001}),
    "bad characters in an expression": spec({"type": "dense", "units": "10; 20"}),
    "type and block": spec({"type": "dense", "units": 3, "block": "b"}),
    "neither type nor block": spec({"units": 3}),
    "name with a slash": spec({"type": "dense", "units": 3, "name": "a/b"}),
    "name too long": spec({"type": "dense", "units": 3, "name": "n" * 201}),
    "unknown top-level key": spec({"type": "dense", "units": 3}, layer=[]),
    "no name": {"input": [3], "layers": [{"type": "dense", "units": 3}]},
    "description not text": spec({"type": "flatten"}, description=["a"]),
    "empty layers": spec(),
    "no input": {"name": "t", "layers": [{"type": "dense", "units": 3}]},
    "input of nine axes": {"name": "t", "input": [1] * 9, "layers": [{"type": "flatten"}]},
    "inputs on an input layer": {"name": "t", "layers": [{"type": "input", "shape": [4], "inputs": "x"}]},
    "add of one input": spec({"type": "add"}),
    "matmul of three inputs": spec({"type": "matmul", "inputs": ["input", "input", "input"]}),
    "expect with an unknown figure": spec({"type": "dense", "units": 3}, expect={"flops": 1}),
    "expect with a decimal": spec({"type": "dense", "units": 3}, expect={"params": 1.5}),
    "block definition without layers": spec({"block": "b"}, blocks={"b": {"params": {}}}),
    "block definition with an unknown key": spec(
        {"block": "b"}, blocks={"b": {"layers": [{"type": "flatten"}], "parms": {}}}
    ),
    "parameter named like an entry key": spec(
        {"block": "b"}, blocks={"b": {"params": {"when": 1}, "layers": [{"type": "flatten"}]}}
    ),
    "variable named like a keyword": spec({"type": "flatten"}, variables={"not": 1}),
    "number for a condition": spec({"type": "dense", "units": 3, "when": 1}),
    "negative repeat": spec({"type": "dense", "units": 3, "repeat": -1}),
    "else without when": spec(
        {"type": "conv2d", "filters": 3, "kernel": 1, "name": "c"},
        {"type": "add", "inputs": ["input", "c"], "else": "c"},
    ),
    "skippable add without else": spec(
        {"type": "conv2d", "filters": 3, "kernel": 1, "name": "c"},
        {"type": "add", "inputs": ["input", "c"], "when": False},
    ),
    "defaults for an unknown type": spec({"type": "flatten"}, defaults={"conv": {"bias": False}}),
    "defaults with an unknown attribute": spec({"type": "flatten"}, defaults={"conv2d": {"bais": False}}),
    "defaults with an entry key": spec({"type": "flatten"}, defaults={"conv2d": {"name": "x"}}),
    "defaults with a bad value": spec({"type": "flatten"}, defaults={"dense": {"bias": 0}}),
    "defaults for a required attribute": spec({"type": "conv2d", "filters": 4}, defaults={"conv2d": {"kernel": 3}}),
    "a layer 'when' leaves out, written wrong": spec({"type": "flatten"}, {"type": "dense", "unit": 3, "when": False}),
    "one branch": spec({"branches": [[{"type": "flatten"}]], "merge": "concat"}),
    "branches without merge": spec({"branches": [[], [{"type": "dropout"}]]}),
    "branches merged by a one-input type": spec({"branches": [[], [{"type": "dropout"}]], "merge": "flatten"}),
    "branches with an attribute their merge lacks": spec({"branches": [[], []], "merge": "add", "axis": 1}),
    "branches and a type": spec({"branches": [[], []], "merge": "add", "type": "add"}),
    "outputs empty": spec({"type": "flatten"}, outputs=[]),
    # the fuzz test's falsifying example: a default no expression can hold, though every instance gives the parameter
    "block default no expression holds": spec(
        {"block": "b", "f": 4},
        blocks={"b": {"params": {"f": "__import__('os')"}, "layers": [{"type": "dense", "units": "f"}]}},
    ),
    "block default with a null item": spec(
        {"block": "b", "f": 4}, blocks={"b": {"params": {"f": [None]}, "layers": [{"type": "dense", "units": "f"}]}}
    ),
}


@pytest.mark.parametrize("doc", REJECTED.values(), ids=REJECTED.keys())
def test_schema_rejects_what_the_loader_rejects(doc):
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
        blocks={
            "unit": {"params": {"filters": None}, "layers": [{"type": "conv2d", "filters": "filters", "kernel": 1}]}
        },
    ),
    "input layer instead of input": {
        "name": "t",
        "layers": [{"type": "input", "shape": [4]}, {"type": "dense", "units": 2}],
    },
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
    # today's example of the issue: a padding held by a variable is a name, which only the loader can look up
    "padding from a variable": spec(
        {"type": "conv2d", "filters": 4, "kernel": 3, "padding": "pad"}, variables={"pad": 1}
    ),
    "words and lists as parameters": spec(
        {"block": "c", "act": "hard_swish", "k": [1, 7], "pad": [[0, 0], [3, 3]]},
        {"type": "activation", "fn": "act"},
        variables={"act": "relu"},
        blocks={
            "c": {
                "params": {"act": "relu", "k": 3, "pad": 0},
                "layers": [
                    {"type": "conv2d", "filters": 4, "kernel": "k", "padding": "pad"},
                    {"type": "activation", "fn": "act"},
                ],
            }
        },
    ),
    "input shape in expressions": spec(
        {"type": "conv2d", "filters": "in.channels * 2", "kernel": 1}, {"type": "dense", "units": "in.channels // 2"}
    ),
    "defaults per type": spec(
        {"type": "conv2d", "filters": 4, "kernel": 1}, defaults={"conv2d": {"bias": False, "padding": 1}}
    ),
    "branches": spec(
        {
            "branches": [
                {"type": "conv2d", "filters": 4, "kernel": 1},
                [{"type": "max_pool", "pool": 3, "stride": 1, "padding": 1}],
                [],
            ],
            "merge": "concat",
            "axis": -1,
            "name": "mixed",
        },
        {"branches": [[], [{"type": "conv2d", "filters": 10, "kernel": 1}]], "merge": "add"},
    ),
    "else and repeat 0": spec(
        {"type": "conv2d", "filters": 3, "kernel": 1, "name": "c"},
        {"type": "add", "inputs": ["input", "c"], "when": "false", "else": "c"},
        {"type": "dropout", "repeat": 0},
    ),
    "outputs": spec(
        {"type": "conv2d", "filters": 3, "kernel": 1, "name": "aux"},
        {"type": "dense", "units": 2, "inputs": "input"},
        outputs=["aux"],
    ),
}


@pytest.mark.parametrize("doc", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_schema_accepts_what_the_loader_accepts(doc):
    assert loader_accepts(doc)
    assert schema_accepts(doc)


# ---------------------------------------------------------------- agreement with the loader, systematically

CORPUS = Path(__file__).parent / "bad_specs"
# What no JSON Schema can see, by bad spec: its error is about names (which layers, blocks and variables
# exist, and which words are variables), shapes, the value of an expression, a relation between attributes
# that a layer type checks, or the expansion limits (which --max-layers moves). The schema accepts these
# and the loader refuses them; every other bad spec is refused by both.
BEYOND_A_SCHEMA = {
    "names": [
        "activation-typo",
        "block-param-before-definition",
        "block-param-missing",
        "block-param-typo",
        "cycle",
        "duplicate-name",
        "generated-name-collision",
        "outputs-unknown",
        "padding-typo",
        "rebind-block-instance",
        "rebind-repeat",
        "rebind-skipped",
        "recursive-block",
        "repeat-undefined-variable",
        "undefined-variable",
        "unknown-block",
        "unknown-input",
        "variable-before-definition",
        "when-undefined-variable",
        "word-as-number",
        "word-for-number",
    ],
    "shapes": [
        "add-shapes",
        "attention-heads-width",
        "attention-kv-heads",
        "attention-on-image",
        "concat-axis",
        "concat-doubling",
        "concat-shapes",
        "crop-amounts",
        "crop-larger",
        "dilated-kernel-too-big",
        "embedding-floats",
        "group-norm-groups",
        "groups-input",
        "kernel-too-big",
        "lstm-on-image",
        "multiply-shapes",
        "pool-on-vector",
        "reshape-count",
        "shape-rank-for-conv",
        "share-shape",
        "shuffle-groups",
        "slice-beyond",
        "split-index",
        "split-parts",
        "split-sizes",
        "stride-chain",
    ],
    "expression values": [
        "alpha-above-limit",
        "axis-below-limit",
        "division-by-zero",
        "expression-work",
        "huge-exponent",
        "input-shape-axis-typo",
        "input-shape-in-variables",
        "integer-not-whole",
        "max-one-argument",
        "number-literal-endless-exponent",
        "number-literal-exponent",
        "repeat-fraction",
        "round-fractional-digits",
        "round-huge-digits",
        "when-not-condition",
    ],
    "a layer type's own rule": [
        "groups-filters",
        "rnn-biases",
        "transposed-output-padding",
        "upsample-scale-below-one",
    ],
    "limits --max-layers can move": ["repeat-billion", "repeat-bomb", "when-false-trillion"],
    "a float JSON reads as infinity": ["infinite-number"],
}
BEYOND = {name for names in BEYOND_A_SCHEMA.values() for name in names}
CORPUS_DOCS = {}
for _path in sorted(CORPUS.glob("*.json")):
    try:
        CORPUS_DOCS[_path.stem] = parse_json(_path.read_bytes())
    except FlopcountError:
        pass  # not JSON (bytes, empty, NaN, duplicate keys, nesting, digits): no schema reads it


@pytest.mark.parametrize("name", sorted(CORPUS_DOCS))
def test_the_schema_refuses_every_bad_spec_it_can_see(name):
    assert not loader_accepts(CORPUS_DOCS[name])
    assert schema_accepts(CORPUS_DOCS[name]) == (name in BEYOND), "move it in or out of BEYOND_A_SCHEMA"


def test_beyond_a_schema_lists_only_corpus_specs():
    assert BEYOND <= set(CORPUS_DOCS)


VALID = {
    "name": "t",
    "description": "d",
    "source": "s",
    "input": [8, 8, 3],
    "variables": {"w": 4, "act": "relu"},
    "defaults": {"conv2d": {"bias": False}},
    "blocks": {
        "unit": {
            "description": "d",
            "params": {"f": None},
            "layers": [
                {"type": "conv2d", "name": "c", "filters": "f", "kernel": 1},
                {"type": "activation", "fn": "act"},
            ],
        }
    },
    "layers": [
        {"type": "conv2d", "name": "stem", "filters": "w", "kernel": 3, "padding": 1},
        {"block": "unit", "name": "u", "f": 4, "repeat": 2, "when": True},
        {"branches": [[], [{"type": "conv2d", "filters": 4, "kernel": 1}]], "merge": "add", "name": "res"},
        {"type": "add", "inputs": ["stem", "res"], "when": "w > 1", "else": "res"},
        {"type": "dense", "units": 3, "name": "aux", "share": None},
    ],
    "outputs": ["stem"],
    "expect": {"params": 1},
}
del VALID["layers"][-1]["share"]
# for each value shape, a value of the wrong JSON type or out of range, which the loader refuses too
WRONG = {
    "text": 5,
    "title": "",
    "shape": "224",
    "variables": [1],
    "defaults": {"conv2d": 3},
    "blocks": [],
    "entries": {},
    "names": "stem",
    "expect": 5,
    "name": "a/b",
    "inputs": 3,
    "count": -1,
    "condition": 1,
    "layer_name": 3,
    "torch": "nn.Module",
    "layer_type": "conv",
    "block_name": 3,
    "branches": [[]],
    "merge": "flatten",
    "params": [],
}


def test_the_valid_example_is_valid():
    assert loader_accepts(VALID) and schema_accepts(VALID)


def _places():
    """(key, where to put it in VALID) for every key of every table."""
    for key in TOP:
        yield key, lambda doc: doc
    for key in BLOCK:
        yield key, lambda doc: doc["blocks"]["unit"]
    for kind, at in (("type", 0), ("block", 1), ("branches", 2)):
        for key in (*KIND_KEYS[kind], *[k for k in ENTRY if kind in k.kinds]):
            yield key, lambda doc, at=at: doc["layers"][at]


@pytest.mark.parametrize("key, where", list(_places()), ids=lambda x: getattr(x, "name", ""))
def test_a_wrong_value_for_any_key_is_refused_by_both(key, where):
    doc = json.loads(json.dumps(VALID))
    where(doc)[key.name] = WRONG[key.value]
    assert not loader_accepts(doc), key
    assert not schema_accepts(doc), key


def unused_blocks(doc) -> bool:
    blocks = doc.get("blocks") if isinstance(doc, dict) else None
    if not isinstance(blocks, dict) or not blocks:
        return False
    named = set(re.findall(r'"block": ("(?:[^"\\]|\\.)*")', json.dumps(doc)))
    return any(json.dumps(name) not in named for name in blocks)


FUZZ = settings(
    max_examples=int(os.environ.get("FLOPCOUNT_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)


@FUZZ
@given(st.randoms(use_true_random=False), st.data())
def test_on_random_specs_the_schema_never_refuses_what_the_loader_accepts(rnd, data):
    """Random edits of a spec that uses every key: whatever the loader accepts, the schema accepts."""
    doc = mutate(VALID, rnd, data.draw)
    if unused_blocks(doc):
        # a block no entry names is never expanded, so only the schema reads its body: the one place it is stricter
        event("a block nothing uses")
        return
    accepted = loader_accepts(doc)
    event(f"loader {'accepts' if accepted else 'refuses'}; schema {'accepts' if schema_accepts(doc) else 'refuses'}")
    if accepted:
        assert schema_accepts(doc), doc
