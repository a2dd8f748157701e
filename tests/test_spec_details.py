"""The spec loader at its edges: every refusal word for word, names and limits met exactly.

Each case tells a rule from its neighbour (the attribute an error names, what it received, a
limit from the limit plus one), so that a change to the rule fails a test; see
tests/mutation/RESULTS.md.
"""

import gzip
from pathlib import Path

import pytest

from flopcount import SpecError, build_graph, parse_spec
from flopcount import spec as spec_module
from flopcount.spec import bundled_dir, load_spec, parse_json, parse_overrides, resolve_path

F = {"type": "flatten"}


def spec(**keys):
    return {"name": "t", "input": [8, 8, 4], **keys}


def refusal(doc, **options) -> str:
    with pytest.raises(SpecError) as err:
        parse_spec(doc, file="s.json", **options)
    return str(err.value)


# (id, spec, the whole one-line message); an error in the spec's structure names no file until
# load_spec or check adds it, an error in its JSON text names it at once
REFUSED = [
    ("not-object-list", [1], "s.json: a spec must be a JSON object, not a list."),
    ("not-object-bool", True, "s.json: a spec must be a JSON object, not a boolean."),
    ("not-object-null", None, "s.json: a spec must be a JSON object, not null."),
    ("not-object-num", 3, "s.json: a spec must be a JSON object, not a number."),
    (
        "name-missing",
        {"input": [4], "layers": [F]},
        "attribute 'name': a spec needs a non-empty string 'name'. Received: name=null",
    ),
    (
        "name-empty",
        {"name": "", "input": [4], "layers": [F]},
        "attribute 'name': a spec needs a non-empty string 'name'. Received: name=\"\"",
    ),
    (
        "desc-not-str",
        spec(description=3, layers=[F]),
        "attribute 'description': must be a string. Received: description=3",
    ),
    ("source-not-str", spec(source=[1], layers=[F]), "attribute 'source': must be a string. Received: source=[1]"),
    (
        "unknown-top",
        spec(layer=[F], layers=[F]),
        "attribute 'layer': unknown top-level key. Did you mean 'layers'? Allowed: $schema, name, description, source, input, variables, defaults, blocks, layers, outputs, expect.",
    ),
    (
        "blocks-list",
        spec(blocks=[], layers=[F]),
        "attribute 'blocks': must be an object of named block definitions. Received: blocks=[]",
    ),
    (
        "layers-empty",
        spec(layers=[]),
        "attribute 'layers': a spec needs a non-empty list 'layers'. Received: layers=[]",
    ),
    ("layers-dict", spec(layers={}), "attribute 'layers': a spec needs a non-empty list 'layers'. Received: layers={}"),
    (
        "no-input",
        {"name": "t", "layers": [F]},
        "attribute 'input': a spec needs an 'input' shape such as [224, 224, 3], or an input layer first.",
    ),
    (
        "vars-list",
        spec(variables=[], layers=[F]),
        "attribute 'variables': must be an object of name: value. Received: variables=[]",
    ),
    (
        "var-name-i",
        spec(variables={"i": 1}, layers=[F]),
        "attribute 'variables.i': is not a usable variable name (an identifier, not a keyword, 'i' or 'in'). Received: variables.i=\"i\"",
    ),
    (
        "var-name-bad",
        spec(variables={"a-b": 1}, layers=[F]),
        "attribute 'variables.a-b': is not a usable variable name (an identifier, not a keyword, 'i' or 'in'). Received: variables.a-b=\"a-b\"",
    ),
    (
        "var-self",
        spec(variables={"a": "a + 1"}, layers=[F]),
        "attribute 'variables.a': 'a' is defined in terms of itself.",
    ),
    (
        "var-later",
        spec(variables={"a": "b + 1", "b": 2}, layers=[F]),
        "attribute 'variables.a': uses 'b' before the line that defines it; define 'b' above 'a'.",
    ),
    (
        "var-dict",
        spec(variables={"a": {"x": 1}}, layers=[F]),
        "attribute 'variables.a': must be a number, a boolean, an expression, a word or a list of these. Received: variables.a={\"x\": 1}",
    ),
    (
        "var-null",
        spec(variables={"a": None}, layers=[F]),
        "attribute 'variables.a': must be a number, a boolean, an expression, a word or a list of these. Received: variables.a=null",
    ),
    (
        "defaults-list",
        spec(defaults=[], layers=[F]),
        "attribute 'defaults': must be an object of layer type: {attribute: value}. Received: defaults=[]",
    ),
    (
        "defaults-type-list",
        spec(defaults={"conv2d": []}, layers=[F]),
        "attribute 'defaults.conv2d': must be an object of attribute: value. Received: defaults.conv2d=[]",
    ),
    (
        "defaults-entry-key",
        spec(defaults={"conv2d": {"name": "x"}}, layers=[F]),
        "attribute 'defaults.conv2d.name': 'name' is not a layer attribute; defaults give attributes only.",
    ),
    (
        "defaults-kind-key",
        spec(defaults={"conv2d": {"block": "x"}}, layers=[F]),
        "attribute 'defaults.conv2d.block': 'block' is not a layer attribute; defaults give attributes only.",
    ),
    (
        "block-long-name",
        spec(blocks={"b" * 201: {"layers": [F]}}, layers=[F]),
        "attribute 'blocks': a block's name is at most 200 characters. Received: blocks=\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb...",
    ),
    (
        "block-not-obj",
        spec(blocks={"b": []}, layers=[F]),
        "attribute 'blocks.b': a block is an object with 'params' and 'layers'. Received: blocks.b=[]",
    ),
    (
        "block-unknown-key",
        spec(blocks={"b": {"layers": [F], "param": {}}}, layers=[F]),
        "attribute 'blocks.b.param': unknown key in a block definition. Did you mean 'params'?",
    ),
    (
        "block-desc",
        spec(blocks={"b": {"layers": [F], "description": 1}}, layers=[F]),
        "attribute 'blocks.b.description': must be a string. Received: blocks.b.description=1",
    ),
    (
        "block-params-list",
        spec(blocks={"b": {"layers": [F], "params": []}}, layers=[F]),
        "attribute 'blocks.b.params': must be an object of parameter: default (null if required). Received: blocks.b.params=[]",
    ),
    (
        "block-param-name",
        spec(blocks={"b": {"layers": [F], "params": {"repeat": 1}}}, layers=[F]),
        "attribute 'blocks.b.params': is not a usable parameter name. Received: blocks.b.params=\"repeat\"",
    ),
    (
        "block-param-kind",
        spec(blocks={"b": {"layers": [F], "params": {"type": 1}}}, layers=[F]),
        "attribute 'blocks.b.params': is not a usable parameter name. Received: blocks.b.params=\"type\"",
    ),
    (
        "block-param-syntax",
        spec(blocks={"b": {"layers": [F], "params": {"k": "1 +"}}}, layers=[F]),
        "attribute 'blocks.b.params.k': expression '1 +' ends too early.",
    ),
    (
        "block-param-null-in-list",
        spec(blocks={"b": {"layers": [F], "params": {"k": [1, None]}}}, layers=[F]),
        "attribute 'blocks.b.params.k': must be a number, a boolean, an expression, a word or a list of these. Received: blocks.b.params.k=[1, null]",
    ),
    (
        "block-param-dict",
        spec(blocks={"b": {"layers": [F], "params": {"k": {}}}}, layers=[F]),
        "attribute 'blocks.b.params.k': must be a number, a boolean, an expression, a word or a list of these (null: required). Received: blocks.b.params.k={}",
    ),
    (
        "block-no-layers",
        spec(blocks={"b": {"params": {}}}, layers=[F]),
        "attribute 'blocks.b.layers': a block needs a non-empty list 'layers'. Received: blocks.b.layers=null",
    ),
    (
        "block-layers-empty",
        spec(blocks={"b": {"layers": []}}, layers=[F]),
        "attribute 'blocks.b.layers': a block needs a non-empty list 'layers'. Received: blocks.b.layers=[]",
    ),
    (
        "entry-not-obj",
        spec(layers=[3]),
        "layer 1: each entry is a JSON object with a 'type', a 'block' or 'branches'. Received: value=3",
    ),
    (
        "entry-name-slash",
        spec(layers=[{"type": "flatten", "name": "a/b"}]),
        "layer 1 'a/b': attribute 'name': must be a non-empty string without '/'. Received: name=\"a/b\"",
    ),
    (
        "entry-name-in",
        spec(layers=[{"type": "flatten", "name": "in"}]),
        "layer 1 'in': attribute 'name': must be a non-empty string without '/'. Received: name=\"in\"",
    ),
    (
        "entry-name-long",
        spec(layers=[{"type": "flatten", "name": "n" * 201}]),
        "layer 1: attribute 'name': is longer than 200 characters. Received: name=\"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn...",
    ),
    (
        "repeat-bool",
        spec(layers=[{"type": "flatten", "repeat": True}]),
        "layer 1: attribute 'repeat': must be an integer >= 0. Received: repeat=true",
    ),
    (
        "repeat-expr-bad",
        spec(layers=[{"type": "flatten", "repeat": "k"}]),
        "layer 1: attribute 'repeat': undefined variable 'k' in expression 'k'.",
    ),
    (
        "repeat-fraction",
        spec(layers=[{"type": "flatten", "repeat": "1 / 2"}]),
        "layer 1: attribute 'repeat': must be an integer >= 0. Received: repeat=\"1 / 2\"",
    ),
    (
        "no-kind",
        spec(layers=[{"name": "x"}]),
        "layer 1 'x': attribute 'type': each entry needs exactly one of 'type' (a layer), 'block' (a block instance) or 'branches'.",
    ),
    ("type-not-str", spec(layers=[{"type": 3}]), "layer 1: attribute 'type': must be a string. Received: type=3"),
    (
        "type-long",
        spec(layers=[{"type": "t" * 201}]),
        "layer 1: attribute 'type': is longer than 200 characters. Received: type=\"tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt...",
    ),
    ("block-not-str", spec(layers=[{"block": 3}]), "layer 1: attribute 'block': must be a string. Received: block=3"),
    (
        "input-with-inputs",
        {"name": "t", "layers": [{"type": "input", "shape": [4], "inputs": "x"}]},
        "layer 0: attribute 'inputs': an input layer takes no inputs.",
    ),
    (
        "inputs-null",
        spec(layers=[{"type": "flatten", "inputs": None}]),
        "layer 1: attribute 'inputs': must be a layer name or a list of layer names. Received: inputs=null",
    ),
    (
        "share-on-block",
        spec(blocks={"b": {"layers": [F]}}, layers=[{"block": "b", "share": "input"}]),
        "layer 1: attribute 'share': share applies to a layer, not to a block instance or branches.",
    ),
    (
        "share-not-str",
        spec(layers=[{"type": "flatten", "share": ["input"]}]),
        "layer 1: attribute 'share': must name one earlier layer. Received: share=[\"input\"]",
    ),
    (
        "share-unknown",
        spec(layers=[{"type": "flatten", "share": "conv"}]),
        "layer 1: attribute 'share': names no earlier layer. A layer can only share the weights of layers above it. Received: share=\"conv\"",
    ),
    (
        "torch-on-block",
        spec(blocks={"b": {"layers": [F]}}, layers=[{"block": "b", "torch": "function"}]),
        "layer 1: attribute 'torch': torch applies to a layer, not to a block instance or branches.",
    ),
    (
        "torch-bad",
        spec(layers=[{"type": "flatten", "torch": "nn.Flatten"}]),
        'layer 1: attribute \'torch\': must be "function" (the PyTorch model calls a function, not a module) or the name of the module class it uses instead of the usual one, such as "LayerNorm2d". Received: torch="nn.Flatten"',
    ),
    (
        "torch-num",
        spec(layers=[{"type": "flatten", "torch": 1}]),
        'layer 1: attribute \'torch\': must be "function" (the PyTorch model calls a function, not a module) or the name of the module class it uses instead of the usual one, such as "LayerNorm2d". Received: torch=1',
    ),
    (
        "when-input",
        {"name": "t", "layers": [{"type": "input", "shape": [4], "when": "false"}]},
        "layer 0: attribute 'when': an input layer cannot be skipped with 'when'.",
    ),
    (
        "repeat0-input",
        {"name": "t", "layers": [{"type": "input", "shape": [4], "repeat": 0}]},
        "layer 0: attribute 'repeat': an input layer cannot be repeated 0 times.",
    ),
    (
        "else-no-when",
        spec(layers=[{"type": "flatten", "else": "input"}]),
        "layer 1: attribute 'else': 'else' names what an entry stands for when 'when' skips it; this entry has no 'when'.",
    ),
    (
        "else-not-str",
        spec(layers=[{"type": "flatten", "when": "false", "else": 1}]),
        "layer 1: attribute 'else': must be the name of one earlier layer. Received: else=1",
    ),
    (
        "else-unknown",
        spec(layers=[{"type": "flatten", "when": "false", "else": "nope"}]),
        "layer 1: attribute 'else': names no earlier layer. A layer can only stand for layers above it. Received: else=\"nope\"",
    ),
    (
        "when-several",
        spec(layers=[{"type": "flatten", "name": "f"}, {"type": "add", "inputs": ["input", "f"], "when": "false"}]),
        "layer 2: attribute 'when': this entry reads 2 inputs; when it is skipped it cannot stand for one of them silently: name the one it passes on with \"else\".",
    ),
    (
        "repeat0-several",
        spec(layers=[{"type": "flatten", "name": "f"}, {"type": "add", "inputs": ["input", "f"], "repeat": 0}]),
        "layer 2: attribute 'repeat': this entry reads 2 inputs; when it is skipped it cannot stand for one of them silently: name the one it passes on with \"else\".",
    ),
    (
        "when-num",
        spec(layers=[{"type": "flatten", "when": 1}]),
        "layer 1: attribute 'when': must be true or false (a condition such as \"i == 0\"). Received: when=1",
    ),
    (
        "when-str-num",
        spec(layers=[{"type": "flatten", "when": "1"}]),
        'layer 1: attribute \'when\': must be true or false (a condition such as "i == 0"). Received: when="1"',
    ),
    (
        "when-bad",
        spec(layers=[{"type": "flatten", "when": "k"}]),
        "layer 1: attribute 'when': undefined variable 'k' in expression 'k'.",
    ),
    (
        "first-no-input",
        {"name": "t", "layers": [{"type": "input", "shape": [4]}, {"type": "flatten", "inputs": []}]},
        "layer 1: attribute 'inputs': must be a layer name or a list of layer names. Received: inputs=[]",
    ),
    (
        "inputs-list-num",
        spec(layers=[{"type": "flatten", "inputs": [1]}]),
        "layer 1: attribute 'inputs': must be a layer name or a list of layer names. Received: inputs=[1]",
    ),
    (
        "inputs-empty",
        spec(layers=[{"type": "flatten", "inputs": []}]),
        "layer 1: attribute 'inputs': must be a layer name or a list of layer names. Received: inputs=[]",
    ),
    (
        "inputs-typo",
        spec(layers=[{"type": "flatten", "name": "first"}, {"type": "flatten", "inputs": "frist"}]),
        "layer 2: attribute 'inputs': names no earlier layer. Did you mean 'first'? A layer can only take inputs from layers above it. Received: inputs=\"frist\"",
    ),
    (
        "outputs-empty",
        spec(layers=[F], outputs=[]),
        "attribute 'outputs': must be a list of layer names. Received: outputs=[]",
    ),
    (
        "outputs-str",
        spec(layers=[F], outputs="flatten_1"),
        "attribute 'outputs': must be a list of layer names. Received: outputs=\"flatten_1\"",
    ),
    (
        "outputs-unknown",
        spec(layers=[F], outputs=["flaten_1"]),
        "attribute 'outputs': names no earlier layer. Did you mean 'flatten_1'? Received: outputs=\"flaten_1\"",
    ),
    (
        "block-unknown",
        spec(layers=[{"block": "b"}]),
        "layer 1: attribute 'block': unknown block. Defined blocks: none. Received: block=\"b\"",
    ),
    (
        "block-recursive",
        spec(blocks={"a": {"layers": [{"block": "b"}]}, "b": {"layers": [{"block": "a"}]}}, layers=[{"block": "a"}]),
        "layer 1: attribute 'block': block 'a' uses itself (a -> b -> a); blocks cannot be recursive.",
    ),
    (
        "block-two-inputs",
        spec(
            blocks={"b": {"layers": [F]}},
            layers=[{"type": "flatten", "name": "f"}, {"block": "b", "inputs": ["input", "f"]}],
        ),
        'layer 2: attribute \'inputs\': a block instance takes exactly one input. Received: inputs=["input", "f"]',
    ),
    (
        "block-param-unknown-none",
        spec(blocks={"b": {"layers": [F]}}, layers=[{"block": "b", "k": 1}]),
        "layer 1: attribute 'k': block 'b' has no parameter of this name. Its parameters: none.",
    ),
    (
        "block-param-unknown",
        spec(blocks={"b": {"layers": [F], "params": {"kk": 1, "m": 2}}}, layers=[{"block": "b", "k": 1}]),
        "layer 1: attribute 'k': block 'b' has no parameter of this name. Did you mean 'kk'? Its parameters: kk, m.",
    ),
    (
        "block-arg-bad",
        spec(blocks={"b": {"layers": [F], "params": {"k": 1}}}, layers=[{"block": "b", "k": "1 / 0"}]),
        "layer 1: attribute 'k': division by zero in expression '1 / 0'.",
    ),
    (
        "block-default-bad",
        spec(blocks={"b": {"layers": [F], "params": {"k": "1 / 0"}}}, layers=[{"block": "b"}]),
        "layer 1: attribute 'blocks.b.params.k': division by zero in expression '1 / 0'.",
    ),
    (
        "block-default-self",
        spec(blocks={"b": {"layers": [F], "params": {"k": "k + 1"}}}, layers=[{"block": "b"}]),
        "layer 1: attribute 'blocks.b.params.k': 'k' is defined in terms of itself.",
    ),
    (
        "block-default-dict-arg",
        spec(blocks={"b": {"layers": [F], "params": {"k": 1}}}, layers=[{"block": "b", "k": {}}]),
        "layer 1: attribute 'k': must be a number, a boolean, an expression, a word or a list of these. Received: k={}",
    ),
    (
        "branches-one",
        spec(layers=[{"branches": [[F]], "merge": "concat"}]),
        'layer 1: attribute \'branches\': must be a list of two or more branches, each a list of entries (or one entry). Received: branches=[[{"type": "flatten"}]]',
    ),
    (
        "branches-not-list",
        spec(layers=[{"branches": {}, "merge": "concat"}]),
        "layer 1: attribute 'branches': must be a list of two or more branches, each a list of entries (or one entry). Received: branches={}",
    ),
    (
        "branch-num",
        spec(layers=[{"branches": [[F], 3], "merge": "concat"}]),
        "layer 1: attribute 'branches[1]': each branch is a list of entries, one entry, or [] for the input itself. Received: branches[1]=3",
    ),
    (
        "merge-missing",
        spec(layers=[{"branches": [[F], [F]]}]),
        "layer 1: attribute 'merge': branches need a 'merge': the layer type that joins them, such as \"concat\" or \"add\". Received: merge=null",
    ),
    (
        "merge-long",
        spec(layers=[{"branches": [[F], [F]], "merge": "m" * 201}]),
        'layer 1: attribute \'merge\': branches need a \'merge\': the layer type that joins them, such as "concat" or "add". Received: merge="mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm...',
    ),
    (
        "merge-empty",
        spec(layers=[{"branches": [[F], [F]], "merge": ""}]),
        'layer 1: attribute \'merge\': branches need a \'merge\': the layer type that joins them, such as "concat" or "add". Received: merge=""',
    ),
    (
        "branches-two-inputs",
        spec(
            layers=[
                {"type": "flatten", "name": "f"},
                {"branches": [[F], [F]], "merge": "concat", "inputs": ["input", "f"]},
            ]
        ),
        'layer 2: attribute \'inputs\': branches take exactly one input. Received: inputs=["input", "f"]',
    ),
    (
        "dup-name",
        spec(layers=[{"type": "flatten", "name": "f"}, {"type": "flatten", "name": "f"}]),
        "layer 2 'f': attribute 'name': the name 'f' is taken twice: by layer 1 and by layer 2; names must be unique.",
    ),
    (
        "max-layers",
        spec(layers=[{"type": "flatten", "repeat": 100001}]),
        "layer 1: attribute 'repeat': the spec would expand to at least 100,002 layers, more than the limit of 100,000; raise it with max_layers if that is intended.",
    ),
    # a bare name the table defines below is a question of order, never the word (was: "'a' holds the word 'b'")
    (
        "var-word-later",
        spec(variables={"a": "b", "b": 2}, layers=[F]),
        "attribute 'variables.a': uses 'b' before the line that defines it; define 'b' above 'a'.",
    ),
    (
        "var-word-self",
        spec(variables={"a": "a"}, layers=[F]),
        "attribute 'variables.a': 'a' is defined in terms of itself.",
    ),
    (
        "block-default-word-later",
        spec(blocks={"b": {"layers": [F], "params": {"k": "m", "m": 2}}}, layers=[{"block": "b"}]),
        "layer 1: attribute 'blocks.b.params.k': uses 'm' before the line that defines it; define 'm' above 'k'.",
    ),
    ("not-object-str", '"x"', "s.json: a spec must be a JSON object, not a string."),
    (
        "block-param-syntax-in-list",
        spec(blocks={"b": {"layers": [F], "params": {"k": [1, [2, "1 +"]]}}}, layers=[F]),
        "attribute 'blocks.b.params.k': expression '1 +' ends too early.",
    ),
    (
        "block-unknown-of-two",
        spec(blocks={"conv": {"layers": [F]}, "pool": {"layers": [F]}}, layers=[{"block": "cnov"}]),
        "layer 1: attribute 'block': unknown block. Did you mean 'conv'? Defined blocks: conv, pool. Received: block=\"cnov\"",
    ),
    (
        "entry-name-empty",
        spec(layers=[{"type": "flatten", "name": ""}]),
        "layer 1: attribute 'name': must be a non-empty string without '/'. Received: name=\"\"",
    ),
    (  # a count of 0 from an expression is 0 too (was: silently the first input)
        "repeat0-expression-several",
        spec(layers=[{"type": "flatten", "name": "f"}, {"type": "add", "inputs": ["input", "f"], "repeat": "1 - 1"}]),
        "layer 2: attribute 'repeat': this entry reads 2 inputs; when it is skipped it cannot stand for one of them "
        'silently: name the one it passes on with "else".',
    ),
    ("json-text", "{", "s.json: invalid JSON at line 1, column 2: Expecting property name enclosed in double quotes."),
    (
        "name-of-the-input",
        spec(layers=[{**F, "name": "input"}]),
        "layer 1 'input': attribute 'name': the name 'input' is taken twice: by the spec's input and by layer 1; "
        "names must be unique.",
    ),
    (
        "error-at-a-200-character-name",
        spec(layers=[{**F, "name": "n" * 200, "repeat": -1}]),
        f"layer 1 '{'n' * 200}': attribute 'repeat': must be an integer >= 0. Received: repeat=-1",
    ),
    (
        "error-named-in-its-block",
        spec(blocks={"b": {"layers": [{**F, "name": "c", "repeat": -1}]}}, layers=[{"block": "b", "name": "blk"}]),
        "layer 1 'blk/c': attribute 'repeat': must be an integer >= 0. Received: repeat=-1",
    ),
    (
        "an-unnamed-repeat-is-not-None",
        spec(layers=[{**F, "repeat": 2}, {**F, "inputs": "None"}]),
        "layer 3: attribute 'inputs': names no earlier layer. A layer can only take inputs from layers above it. "
        'Received: inputs="None"',
    ),
]


@pytest.mark.parametrize("doc, message", [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_refusals_word_for_word(doc, message):
    assert refusal(doc) == message


# ---------------------------------------------------------------- the one budget of expression work

ONES = " + ".join(["1"] * 40)  # one chain node and 40 numbers: 41 steps


@pytest.mark.parametrize(
    "doc, overrides, steps",
    [
        ({"name": "t", "input": [4], "variables": {"a": 1}, "layers": [{"type": "dense", "units": "a"}]}, {}, 0),
        ({"name": "t", "input": [4], "variables": {"a": 1}, "layers": [F]}, {"a": ONES}, 41),  # --set is charged
        ({"name": "t", "input": [4], "variables": {"a": ONES}, "layers": [F]}, {}, 41),
        # a shape read builds the layers above it, charging their expressions once, then the condition's 3
        (
            {
                "name": "t",
                "input": [4],
                "layers": [{"type": "dense", "units": ONES}, {**F, "when": "in.channels == 40"}],
            },
            {},
            44,
        ),
        ({"name": "t", "input": [4], "layers": [{**F, "repeat": "2 * 1"}, {**F, "when": "not false"}]}, {}, 3 + 2),
        # a block's arguments where the instance is written, its defaults inside it
        (
            {
                "name": "t",
                "input": [4],
                "blocks": {"b": {"params": {"k": 1}, "layers": [F]}},
                "layers": [{"block": "b", "k": ONES}],
            },
            {},
            41,
        ),
        (
            {
                "name": "t",
                "input": [4],
                "blocks": {"b": {"params": {"k": ONES}, "layers": [F]}},
                "layers": [{"block": "b"}],
            },
            {},
            41,
        ),
        # attributes are the graph's to evaluate: expansion alone charges nothing for them
        ({"name": "t", "input": [4], "layers": [{"type": "dense", "units": ONES}, F]}, {}, 0),
    ],
)
def test_what_expansion_charges(doc, overrides, steps):
    assert parse_spec(doc, overrides=overrides).budget.used == steps


def test_an_error_in_an_override_is_about_the_overrides():
    doc = {"name": "t", "input": [4], "variables": {"a": 1}, "layers": [F]}
    with pytest.raises(SpecError) as err:
        parse_spec(doc, overrides={"a": "1 +"})
    assert err.value.option == "overrides"
    assert str(err.value) == "overrides a: expression '1 +' ends too early."
    assert err.value.text(lambda option: "--set" if option == "overrides" else option).startswith("--set a: ")


# ---------------------------------------------------------------- branches


def test_branches_read_their_own_input_as_in_and_belong_to_the_entry_above_them():
    doc = {
        "name": "t",
        "input": [4],
        "variables": {"ax": -1, "w": 2},
        "blocks": {
            "b": {
                "layers": [
                    {"type": "dense", "units": 3, "name": "c"},
                    {
                        "branches": [
                            [{"type": "dense", "units": "in.channels", "name": "a"}],  # in: c's output, not the block's
                            {"type": "dense", "units": "w", "inputs": "in"},  # one entry, not a list; in by name
                            [],  # the input itself
                        ],
                        "merge": "concat",
                        "axis": "ax",  # the merge's attributes see the variables
                        "name": "mix",
                    },
                ]
            }
        },
        "layers": [{"block": "b", "name": "blk"}, {"branches": [[F], [F]], "merge": "concat", "name": "top"}],
    }
    loaded = parse_spec(doc)
    assert [(x.name, x.inputs, x.group) for x in loaded.layers] == [
        ("input", (), None),
        ("blk/c", ("input",), "blk"),
        ("blk/mix/a", ("blk/c",), "blk"),
        ("blk/mix/dense_1", ("blk/c",), "blk"),
        ("blk/mix/concat", ("blk/mix/a", "blk/mix/dense_1", "blk/c"), "blk"),
        ("top/flatten_1", ("blk/mix/concat",), "top"),
        ("top/flatten_2", ("blk/mix/concat",), "top"),
        ("top/concat", ("top/flatten_1", "top/flatten_2"), "top"),
    ]
    assert loaded.layers[4].env["ax"] == -1
    assert [node.shape for node in build_graph(loaded).nodes][1:5] == [(3,), (3,), (2,), (8,)]


def test_a_branch_layer_named_as_the_merge_is_reported_with_both():
    layers = [{"branches": [[{"type": "flatten", "name": "concat"}], [F]], "merge": "concat", "name": "mix"}]
    assert refusal(spec(layers=layers)) == (
        "layer 1 'mix': attribute 'name': the name 'mix/concat' is taken twice: by layer 1 and by the merge of the "
        "branches at layer 3; names must be unique."
    )


def test_a_merge_type_of_200_characters_is_the_graphs_to_judge():
    assert parse_spec(spec(layers=[{"branches": [[F], [F]], "merge": "m" * 200}])).layers[-1].type == "m" * 200


def nested_blocks(depth, before=()):
    """A spec whose last entry is a block instance nesting `depth` blocks, after the entries before."""
    blocks = {f"b{k}": {"layers": [{"block": f"b{k + 1}"}]} for k in range(depth - 1)}
    blocks[f"b{depth - 1}"] = {"layers": [F]}
    return spec(blocks=blocks, layers=[*before, {"block": "b0"}])


BRANCHES = {"branches": [[F], [F]], "merge": "concat"}


@pytest.mark.parametrize(
    "before", [(), (BRANCHES,), ({"block": "b63"},)], ids=["alone", "after-branches", "after-block"]
)
def test_blocks_nest_64_deep_however_many_came_before(before):
    assert parse_spec(nested_blocks(64, before)).layers[-1].name.count("/") == 64
    assert refusal(nested_blocks(65, before)).endswith("attribute 'block': blocks are nested more than 64 deep.")


def test_branches_count_in_the_nesting():
    doc = nested_blocks(64)
    doc["blocks"]["b63"] = {"layers": [BRANCHES]}
    assert refusal(doc) == "layer 1: attribute 'branches': branches and blocks are nested more than 64 deep."


# ---------------------------------------------------------------- what a layer is after expansion


def test_each_flat_layers_fields():
    doc = {
        "name": "n",
        "description": "d",
        "source": "s",
        "input": [8, 8, 4],
        "variables": {"act": "relu", "k": [1, 3]},
        "defaults": {"conv2d": {"kernel": 3, "padding": "same"}},
        "layers": [
            {"type": "conv2d", "filters": 4, "name": "c1"},
            {"type": "conv2d", "filters": 4, "kernel": 1, "share": "c1", "torch": "function", "inputs": "input"},
            {"type": "activation", "fn": "act"},
            {"type": "conv2d", "filters": 4, "kernel": "k"},
        ],
        "outputs": ["c1"],
    }
    loaded = parse_spec(doc, file="n.json")
    fields = [(x.index, x.name, x.inputs, x.group, x.implicit, x.share, x.torch, x.defaulted) for x in loaded.layers]
    assert fields == [
        (0, "input", (), None, False, None, None, frozenset()),
        (1, "c1", ("input",), "c1", True, None, None, frozenset({"kernel", "padding"})),
        (2, "conv2d_1", ("input",), "conv2d_1", False, "c1", "function", frozenset({"padding"})),
        (3, "activation_1", ("conv2d_1",), "activation_1", True, None, None, frozenset()),
        (4, "conv2d_2", ("activation_1",), "conv2d_2", True, None, None, frozenset({"padding"})),
    ]
    assert loaded.layers[2].raw == {"kernel": 1, "padding": "same", "filters": 4}  # its own value beats the default
    fn = loaded.layers[3].raw["fn"]
    assert (fn, fn.variable) == ("relu", "act")  # a word, knowing the variable that held it
    assert loaded.layers[4].raw["kernel"] == [1, 3]
    assert (loaded.name, loaded.description, loaded.source, loaded.file) == ("n", "d", "s", "n.json")
    assert (loaded.outputs, loaded.variables, loaded.defaults, loaded.data) == (
        ("c1",),
        {"act": "relu", "k": [1, 3]},
        {"conv2d": {"kernel": 3, "padding": "same"}},
        doc,
    )


# ---------------------------------------------------------------- max_layers, met exactly

BLOCKS = {
    "c": {"layers": [F, F]},
    # at least 1 + 3 + 2 x 2 + min(2, 1) = 9 layers: a repeat that is not a literal whole number counts 0,
    # an entry that 'when' may skip counts at most 1
    "b": {
        "layers": [
            F,
            7,  # not an entry: expansion reports it, and the entries after it still count
            {**F, "repeat": 3},
            {"block": "c", "repeat": 2},
            {"block": "c", "when": "true"},
            {**F, "repeat": True},
            {**F, "repeat": "2"},
            {**F, "repeat": -1},
        ]
    },
    "k": {"params": {"k": 1}, "layers": [{**F, "repeat": "k"}]},  # at least 0 layers, k when expanded
}
LIMIT = "raise it with max_layers if that is intended."


@pytest.mark.parametrize(
    "layers, max_layers, outcome",
    [
        ([F, F], 3, 3),
        (
            [F, F],
            2,
            f"layer 2: attribute 'type': the spec would expand to at least 3 layers, more than the limit of 2; {LIMIT}",
        ),
        ([F, {**F, "when": "false", "repeat": 2}], 4, 2),  # skipped copies count against the limit
        (
            [F, {**F, "when": "false", "repeat": 3}],
            4,
            f"layer 2: attribute 'repeat': the spec would expand to at least 5 layers, more than the limit of 4; {LIMIT}",
        ),
        (
            [{"block": "b", "repeat": 5}],
            10,
            f"layer 1: attribute 'repeat': the spec would expand to at least 46 layers, more than the limit of 10; {LIMIT}",
        ),
        (
            [{"block": "b"}],
            9,
            f"layer 1: attribute 'block': the spec would expand to at least 10 layers, more than the limit of 9; {LIMIT}",
        ),
        ([{"block": "k", "k": 5}], 6, 6),
        ([{"branches": [[F], [F]], "merge": "concat"}], 4, 4),
        (
            [{"branches": [[F], [F]], "merge": "concat"}],  # the merge is counted as it is made
            3,
            "layer 1: the spec expands to more than the limit of 3 layers (copies skipped by 'when' count too); "
            f"{LIMIT}",
        ),
        ([{"block": "k", "k": 5, "repeat": 2}], 11, 11),
        (
            [{"block": "k", "k": 5, "repeat": 2}],
            10,
            "layer 1: attribute 'repeat': repeat of 2 would expand to about 11 layers, more than 10; raise the limit "
            "with max_layers if that is intended.",
        ),
    ],
)
def test_max_layers_is_met_exactly(layers, max_layers, outcome):
    doc = spec(input=[4], blocks=BLOCKS, layers=layers)
    if isinstance(outcome, int):
        assert len(parse_spec(doc, max_layers=max_layers).layers) == outcome
    else:
        assert refusal(doc, max_layers=max_layers) == outcome


# ---------------------------------------------------------------- JSON, files and --set

DUPLICATE = "JSON keeps only the last one silently, so a key may appear once."


@pytest.mark.parametrize(
    "data, message",
    [
        (b'{"a": "\xff"}', "f.json: the file is not UTF-8 text (byte 7)."),
        ("  \n ", "f.json: the file is empty; a spec is a JSON object."),
        (b"", "f.json: the file is empty; a spec is a JSON object."),
        ('{"a": 1,}', "f.json: invalid JSON at line 1, column 9: Expecting property name enclosed in double quotes."),
        ('{"a": NaN}', "invalid JSON: NaN is not a JSON number."),
        ('{"a": -Infinity}', "invalid JSON: -Infinity is not a JSON number."),
        ("[" * 100_000, "f.json: the JSON is nested too deeply."),
        (
            '{"a": ' + "1" * 5000 + "}",
            "f.json: invalid JSON: Exceeds the limit (4300 digits) for integer string conversion: value has 5000 digits.",
        ),
        ('{"a": {"b": [1, {"c": 1, "c": 2}]}}', f"f.json: duplicate key 'c' in a.b[1]: {DUPLICATE}"),
        ('{"a": 1, "a": 2}', f"f.json: duplicate key 'a' in the top-level object: {DUPLICATE}"),
        ('[{"a": 1}, {"b": 1, "b": 1}]', f"f.json: duplicate key 'b' in [1]: {DUPLICATE}"),
        ('{"' + "k" * 101 + '": {"x": 1, "x": 2}}', f"f.json: duplicate key 'x' in {'k' * 97}...: {DUPLICATE}"),
        ('{"' + "k" * 100 + '": {"x": 1, "x": 2}}', f"f.json: duplicate key 'x' in {'k' * 100}: {DUPLICATE}"),
        (
            '{"' + "k" * 101 + '": 1, "' + "k" * 101 + '": 2}',
            f"f.json: duplicate key '{'k' * 97}...' in the top-level object: {DUPLICATE}",
        ),
    ],
)
def test_json_refusals_word_for_word(data, message):
    with pytest.raises(SpecError) as err:
        parse_json(data, "f.json")
    assert str(err.value) == message


def test_json_may_start_with_a_byte_order_mark():
    assert parse_json(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}


def test_a_spec_is_found_as_a_file_or_by_a_bundled_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_path("resnet18") == resolve_path("resnet18.json") == bundled_dir() / "resnet18.json"
    (tmp_path / "vgg16.json").write_text("{}")
    assert resolve_path("vgg16.json") == Path("vgg16.json")  # a file beats a bundled name
    names = ", ".join(sorted(p.stem for p in bundled_dir().glob("*.json")))
    for missing in ("vgg61", "models/vgg16"):  # a path with a folder is never a bundled name
        with pytest.raises(SpecError) as err:
            resolve_path(missing)
        assert str(err.value) == (
            f"{missing}: no such file, and no bundled spec of that name. Did you mean 'vgg16'? Bundled: {names}."
        )


def test_a_name_the_system_refuses_is_an_error_about_the_spec():
    name = "a" * 300 + ".json"  # longer than a file system allows
    with pytest.raises(SpecError) as err:
        resolve_path(name)
    assert str(err.value) == f"{name}: cannot read the spec: the file name is too long for the file system."


def test_set_takes_name_value_pairs():
    assert parse_overrides([" alpha = 0.75 ", "b=1=2"]) == {"alpha": "0.75", "b": "1=2"}
    assert parse_overrides(None) == {}
    with pytest.raises(SpecError) as err:
        parse_overrides(["a=  "])
    assert str(err.value) == "overrides takes NAME=VALUE, such as alpha=0.75. Received: a=  "


VARIABLES = {"name": "t", "input": [4], "variables": {"act": "relu", "w": 2, "alpha": 1}, "layers": [F]}


@pytest.mark.parametrize(
    "variables, overrides, outcome",
    [
        (None, {"act": "hard_swish"}, {"act": "hard_swish", "w": 2, "alpha": 1}),  # a word for a word
        (None, {"w": "3 * 2"}, {"act": "relu", "w": 6, "alpha": 1}),
        (None, {"w": "foo"}, "overrides w: undefined variable 'foo' in expression 'foo'."),  # never a word for a number
        ({"w": "2 * 3"}, {"w": "foo"}, "overrides w: undefined variable 'foo' in expression 'foo'."),
        (None, {"act": "w * 3"}, "overrides act: undefined variable 'w' in expression 'w * 3'."),  # only earlier lines
        (
            None,
            {"alpah": "1"},
            "overrides alpah: the spec has no such variable. Did you mean 'alpha'? Its variables: act, w, alpha.",
        ),
        ({}, {"a": "1"}, "overrides a: the spec has no such variable. Its variables: none."),
    ],
)
def test_set_overrides_a_variable_where_it_is_defined(variables, overrides, outcome):
    doc = VARIABLES if variables is None else {**VARIABLES, "variables": variables}
    if isinstance(outcome, dict):
        assert parse_spec(doc, overrides=overrides).variables == outcome
        return
    with pytest.raises(SpecError) as err:
        parse_spec(doc, overrides=overrides)
    assert (str(err.value), err.value.option) == (outcome, "overrides")


def test_names_of_200_characters_are_allowed():
    doc = spec(blocks={"b" * 200: {"layers": [F]}}, layers=[{**F, "name": "n" * 200}, {"type": "t" * 200}])
    assert [x.name for x in parse_spec(doc).layers] == ["input", "n" * 200, "t" * 200 + "_1"]


def test_the_names_together_are_bounded(monkeypatch):
    monkeypatch.setattr(spec_module, "MAX_NAME_CHARS", 20)
    assert parse_spec(spec(layers=[{**F, "name": "a" * 15}])).layers[-1].name == "a" * 15  # 5 + 15 for input
    assert refusal(spec(layers=[{**F, "name": "a" * 16}])) == (
        f"layer 1 '{'a' * 16}': attribute 'name': the spec's names together pass 20 characters; use shorter names."
    )


def test_a_block_parameters_default_may_be_a_list_of_any_values():
    doc = spec(blocks={"b": {"layers": [F], "params": {"k": [1, "k2", [2, 0.5, True]]}}}, layers=[F])
    assert parse_spec(doc).layers[-1].name == "flatten_1"


CHAIN = {f"b{k}": {"layers": [F, {"block": f"b{k + 1}"}]} for k in range(65)} | {"b65": {"layers": [F]}}


@pytest.mark.parametrize(
    "blocks, least",
    [
        ({"b": {"layers": [F, {"block": "nope"}]}}, 11),  # an unknown block counts 0: expansion reports it
        ({"b": {"layers": [F, {"block": "b"}]}}, 11),  # so does a block inside itself
        (CHAIN, 131),  # b0 to b64 count 1 each; b65 lies past 64 blocks deep and counts 0
    ],
)
def test_the_least_size_of_a_block_counts_what_expansion_may_report(blocks, least):
    doc = {
        "name": "t",
        "input": [4],
        "blocks": blocks,
        "layers": [{"block": next(iter(blocks)), "repeat": 10 if least < 100 else 2}],
    }
    assert refusal(doc, max_layers=5) == (
        f"layer 1: attribute 'repeat': the spec would expand to at least {least} layers, more than the limit of 5; "
        "raise it with max_layers if that is intended."
    )


# ---------------------------------------------------------------- load_spec


def test_load_spec_reads_a_file_with_its_options(write_spec):
    doc = {"name": "t", "input": [4], "variables": {"a": 1}, "layers": [{**F, "repeat": "a"}]}
    loaded = load_spec(write_spec(doc), overrides={"a": "3"}, max_layers=4)
    assert (loaded.variables, len(loaded.layers), loaded.budget.limit) == ({"a": 3}, 4, 4 * 20)
    assert loaded.file == str(write_spec(doc))
    with pytest.raises(SpecError) as err:
        load_spec(write_spec(doc), overrides={"a": "4"}, max_layers=4)
    assert err.value.file == str(write_spec(doc))
    assert (load_spec("vgg16").file, load_spec("vgg16").budget.limit) == ("vgg16", 2_000_000)


@pytest.mark.parametrize(
    "text, options, message",
    [
        ("[1]", {}, "a spec must be a JSON object, not a list."),
        ("{", {}, "invalid JSON at line 1, column 2: Expecting property name enclosed in double quotes."),
        (
            '{"name": "t", "input": [4], "layers": [{"type": "flatten"}]}',
            {"input_shapes": {"x": (1, 4)}},
            "input_shapes is for model files (ONNX, Keras); a spec declares its 'input'.",
        ),
    ],
)
def test_load_spec_names_the_file_in_every_refusal(write_spec, text, options, message):
    path = write_spec(text)
    with pytest.raises(SpecError) as err:
        load_spec(path, **options)
    assert str(err.value) == f"{path}: {message}"


# ---------------------------------------------------------------- repeats and conditions


def test_repeats_name_number_chain_and_skip_their_copies():
    doc = spec(
        input=[4],
        layers=[
            {"type": "dense", "units": "i + 1", "repeat": 3, "name": "d"},  # d_1 .. d_3, i = 0 .. 2
            {"type": "dense", "units": 2, "repeat": 2, "inputs": "input"},  # only the first copy reads 'inputs'
            {"type": "dense", "units": 5, "repeat": 3, "when": "i != 1", "name": "w"},  # w_2 skipped: stands for w_1
            {"type": "dense", "units": 7, "repeat": 0, "name": "z"},  # no copy: z stands for the entry above
            {"type": "concat", "inputs": ["d", "z", "w_2"]},  # a repeat's name is its last copy
            {"type": "dense", "units": "in.channels * 2"},  # in: the entry's own input
        ],
    )
    loaded = parse_spec(doc)
    assert [(x.name, x.inputs, x.group, x.implicit, x.env.get("i")) for x in loaded.layers] == [
        ("input", (), None, False, None),
        ("d_1", ("input",), "d", True, 0),
        ("d_2", ("d_1",), "d", True, 1),
        ("d_3", ("d_2",), "d", True, 2),
        ("dense_1", ("input",), "dense_1", False, 0),
        ("dense_2", ("dense_1",), "dense_2", True, 1),
        ("w_1", ("dense_2",), "w", True, 0),
        ("w_3", ("w_1",), "w", True, 2),
        ("concat_1", ("d_3", "w_3", "w_1"), "concat_1", False, None),
        ("dense_3", ("concat_1",), "dense_3", True, None),
    ]
    assert [n.shape for n in build_graph(loaded).nodes] == [
        (4,),
        (1,),
        (2,),
        (3,),
        (2,),
        (2,),
        (5,),
        (5,),
        (13,),
        (26,),
    ]


@pytest.mark.parametrize("torch", ["function", "LayerNorm2d", "_Private1"])
def test_torch_names_a_function_or_a_module_class(torch):
    assert parse_spec(spec(layers=[{**F, "torch": torch}])).layers[-1].torch == torch


@pytest.mark.parametrize("torch", ["nn.Flatten", "1Flatten", "", "Flatten2d "])
def test_torch_refuses_anything_else(torch):
    assert refusal(spec(layers=[{**F, "torch": torch}])).startswith("layer 1: attribute 'torch': must be \"function\"")


def test_a_list_value_is_evaluated_item_by_item_where_it_is_written():
    doc = spec(variables={"w": 2, "k": ["w", "w * 2", "relu", [" gelu ", 1]]}, layers=[F])
    loaded = parse_spec(doc)
    assert loaded.variables["k"] == [2, 4, "relu", ["gelu", 1]]  # variables, expressions, words, lists
    assert loaded.budget.used == 1 + 3 + 1 + 1  # each item's nodes are charged


def test_a_skipped_block_instance_counts_one_per_copy():
    doc = spec(input=[4], blocks={"b": {"layers": [F] * 5}}, layers=[{"block": "b", "when": "false", "repeat": 3}])
    assert [x.name for x in parse_spec(doc, max_layers=4).layers] == ["input"]


def test_load_spec_reads_a_folder_as_no_spec(tmp_path):
    with pytest.raises(SpecError) as err:
        load_spec(tmp_path)
    assert str(err.value) == f"{tmp_path}: the spec is a directory, not a regular file."


DATA = Path(__file__).parent / "data"


def test_load_spec_imports_model_files_with_its_options(tmp_path):
    onnx = DATA / "onnx" / "alexnet.onnx"
    loaded = load_spec(onnx)
    assert (loaded.name, len(loaded.layers), loaded.file) == ("main_graph", 22, str(onnx))
    assert loaded.weights is not None  # the model's own weights come with it
    with pytest.raises(SpecError) as err:
        load_spec(onnx, max_layers=5)
    assert str(err.value).startswith(
        f"{onnx}: layer 5 'features.4': attribute 'type': the spec would expand to at least 6"
    )
    keras = tmp_path / "vgg16.json"  # a Keras model's JSON (model.to_json()) is translated, not read as a spec
    keras.write_bytes(gzip.decompress((DATA / "keras" / "vgg16.json.gz").read_bytes()))
    assert (load_spec(keras).name, len(load_spec(keras).layers)) == ("vgg16", 39)


D = {"type": "dense", "units": 2}


def test_generated_names_are_numbered_per_scope_even_one_named_none():
    doc = spec(input=[4], blocks={"b": {"layers": [D]}}, layers=[D, {"block": "b", "name": "None"}])
    assert [x.name for x in parse_spec(doc).layers] == ["input", "dense_1", "None/dense_1"]


def test_a_named_repeat_in_a_block_takes_its_name_there():
    blocks = {"b": {"layers": [{**D, "name": "d", "repeat": 2}]}}
    doc = spec(input=[4], blocks=blocks, layers=[{**D, "name": "d"}, {"block": "b", "name": "blk"}])
    assert [x.name for x in parse_spec(doc).layers] == ["input", "d", "blk/d_1", "blk/d_2"]
    doc["layers"].append({**F, "inputs": "blk/d"})  # and is its last copy from outside
    assert parse_spec(doc).layers[-1].inputs == ("blk/d_2",)


def test_only_a_repeat_binds_i():
    loaded = parse_spec(spec(input=[4], layers=[{"type": "dense", "units": "i + 1"}]))
    assert "i" not in loaded.layers[1].env and "in" in loaded.layers[1].env


def test_a_repeat_past_the_limit_is_about_the_repeat():
    with pytest.raises(SpecError) as err:
        parse_spec(spec(input=[4], layers=[F, {**F, "repeat": 2}]), max_layers=3)
    assert (err.value.option, err.value.attribute) == ("max_layers", "repeat")
    with pytest.raises(SpecError) as err:
        parse_spec(spec(input=[4], layers=[F, F]), max_layers=2)
    assert (err.value.option, err.value.attribute) == ("max_layers", "type")


def test_a_branches_entry_sharing_a_name_is_reported_as_branches():
    layers = [{**F, "name": "x"}, {"branches": [[F], [F]], "merge": "concat", "name": "x"}]
    assert refusal(spec(layers=layers)) == (
        "layer 2 'x': attribute 'name': the name 'x' is taken twice: by layer 1 and by the branches at layer 2; "
        "names must be unique."
    )


def test_a_repeat_of_none_stands_for_what_else_names():
    layers = [{**D, "name": "a"}, {"type": "add", "inputs": ["input", "a"], "repeat": "1 - 1", "else": "a"}, F]
    assert [(x.name, x.inputs) for x in parse_spec(spec(input=[4], layers=layers)).layers] == [
        ("input", ()),
        ("a", ("input",)),
        ("flatten_1", ("a",)),
    ]


def test_the_limit_counted_as_layers_are_made_is_about_max_layers():
    with pytest.raises(SpecError) as err:
        parse_spec(spec(input=[4], layers=[{"branches": [[F], [F]], "merge": "concat"}]), max_layers=3)
    assert err.value.option == "max_layers"


def test_a_repeat_projected_past_the_limit_is_about_max_layers():
    with pytest.raises(SpecError) as err:
        parse_spec(spec(input=[4], blocks=BLOCKS, layers=[{"block": "k", "k": 5, "repeat": 2}]), max_layers=10)
    assert (err.value.option, err.value.attribute) == ("max_layers", "repeat")


def test_load_spec_passes_set_and_input_shapes_to_the_importer(tmp_path):
    keras = tmp_path / "vgg16.json"
    keras.write_bytes(gzip.decompress((DATA / "keras" / "vgg16.json.gz").read_bytes()))
    onnx = DATA / "onnx" / "alexnet.onnx"
    dynamic = "overrides batch: the model has no dynamic dimension of that name. Its dynamic dimensions: none."
    for path, name, axis in ((onnx, "input", 2), (keras, "input_layer_2", 1)):
        with pytest.raises(SpecError) as err:
            load_spec(path, overrides={"batch": "2"})
        assert (str(err.value), err.value.option) == (f"{path}: {dynamic}", "overrides")
        shape = (1, 3, 96, 96) if axis == 2 else (1, 96, 96, 3)
        with pytest.raises(SpecError) as err:
            load_spec(path, input_shapes={name: shape})
        assert str(err.value) == f"{path}: input_shapes {name}: axis {axis} has the fixed size 224 in the file, not 96."


def test_input_shapes_for_a_spec_is_about_that_option(write_spec):
    with pytest.raises(SpecError) as err:
        load_spec(write_spec(spec(layers=[F])), input_shapes={"x": (1, 4)})
    assert err.value.option == "input_shapes"


def test_copies_a_condition_skips_stand_for_what_else_names():
    layers = [{**D, "name": "x"}, {**D, "name": "c", "repeat": 3, "when": "i != 1", "else": "input"}]
    assert [(x.name, x.inputs) for x in parse_spec(spec(input=[4], layers=layers)).layers] == [
        ("input", ()),
        ("x", ("input",)),
        ("c_1", ("x",)),
        ("c_3", ("input",)),  # c_2 was skipped and stands for 'input', not for c_1
    ]


def test_a_spec_without_description_or_source_has_empty_ones():
    loaded = parse_spec(spec(layers=[F]))
    assert (loaded.description, loaded.source) == ("", "")
