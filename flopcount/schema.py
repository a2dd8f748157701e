"""A JSON Schema (draft 2020-12) for specs, generated from the loader's key tables and the layer registry.

Editors that read ``$schema`` use it for completion and validation. The spec-level part comes
from spec.py's key tables (TOP, ENTRY, KIND_KEYS, BLOCK), each key's value by the name of its
shape in VALUES; the layer-attribute part from each attribute kind's own schema. A schema
sees structure, not names: which words are variables, which layers exist, whether shapes fit
and what an expression evaluates to are the loader's, so an attribute may always be a name
(a variable or block parameter holding its value) and a number an expression string.
"""

from __future__ import annotations

from .check import EXPECT_KEYS, FIGURES
from .expr import MAX_LENGTH, plain
from .layers import MAX_RANK, REGISTRY, REQUIRED, Attr
from .layers.conventions import CONVENTIONS
from .layers.kinds import EXPRESSION, integer_schema
from .spec import BLOCK, BLOCK_IN, ENTRY, KIND_KEYS, MAX_NAME, MERGE, RESERVED, TOP, Key

DIALECT = "https://json-schema.org/draft/2020-12/schema"
IDENTIFIER = "^[A-Za-z_][A-Za-z0-9_]*$"
EXPRESSION_CHARS = "^[\\sA-Za-z0-9_.+\\-*/%()<>=!,]+$"  # the tokens of flopcount.expr

REFERENCE = {"$ref": "#/$defs/reference"}


def attribute_schema(attr: Attr) -> dict:
    """One attribute: its kind's own schema (layers.kinds), or a name holding it; with description and default."""
    out = {"anyOf": [attr.kind.schema(), REFERENCE]}
    if attr.doc:
        out["description"] = attr.doc
    if attr.default is not REQUIRED and attr.default is not None:
        out["default"] = plain(attr.default)
    return out


def attributes(type_name: str) -> dict:
    return {attr.name: attribute_schema(attr) for attr in REGISTRY[type_name].attrs}


def _keys(keys: tuple[Key, ...], kind: str | None = None) -> dict:
    """The properties of a table's keys (for an entry, those its kind takes), each described."""
    return {k.name: {**VALUES[k.value], "description": k.doc} for k in keys if kind is None or kind in k.kinds}


def _required(keys: tuple[Key, ...]) -> list[str]:
    return [k.name for k in keys if k.required]


def layer_schema(type_name: str) -> dict:
    """A layer entry of one type: its attributes (one definition, shared with defaults and merges) and every entry's keys."""
    cls = REGISTRY[type_name]
    properties = {"type": {"const": type_name}, **_keys(ENTRY, "type")}
    required = ["type"] + [a.name for a in cls.attrs if a.default is REQUIRED]
    lo, hi = cls.inputs
    if hi == 0:  # it reads nothing: no inputs to name
        del properties["inputs"]
    else:  # as many names as the type reads; without inputs it reads the entry above, one
        many = {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": max(lo, 1)}
        if hi is not None:
            many["maxItems"] = hi
        one = [{"type": "string", "minLength": 1}] if lo <= 1 else []
        properties["inputs"] = {"anyOf": [*one, many], "description": properties["inputs"]["description"]}
        if lo > 1:
            required.append("inputs")
    return {
        "type": "object",
        "description": cls.doc,
        "$ref": f"#/$defs/attributes.{type_name}",
        "properties": properties,
        "required": required,
        "unevaluatedProperties": False,
    }


def _defaults_of(type_name: str) -> dict:
    """What defaults may give a type: its optional attributes (a required one is written on every layer)."""
    required = [a.name for a in REGISTRY[type_name].attrs if a.default is REQUIRED]
    out = {"$ref": f"#/$defs/attributes.{type_name}", "unevaluatedProperties": False}
    if required:
        out["not"] = {"anyOf": [{"required": [name]} for name in required]}
    return out


def merge_types() -> list[str]:
    """Layer types that join several inputs: what a branches entry may merge with."""
    return sorted(t for t, cls in REGISTRY.items() if cls.inputs[1] is None or cls.inputs[1] > 1)


def _merged_by(type_name: str) -> dict:
    """A branches entry merged by this type: its attributes, and no more branches than it reads."""
    out = {"$ref": f"#/$defs/attributes.{type_name}"}
    most = REGISTRY[type_name].inputs[1]
    if most is not None:
        out["properties"] = {"branches": {"maxItems": most}}
    return out


def _figures() -> dict:
    return {f: {"$ref": "#/$defs/figure"} for f in FIGURES}


def _value() -> dict:
    """A variable's or a block argument's value: a number, a boolean, an expression, a word, or a list of these."""
    return {
        "anyOf": [
            {"type": "number"},
            {"type": "boolean"},
            EXPRESSION,
            {"type": "array", "items": {"$ref": "#/$defs/value"}},
        ],
        "description": "a number, a boolean, an expression, a word (a name the spec does not define, e.g. an activation) or a list of these",
    }


# each value shape of spec.py's key tables, as a schema
VALUES = {
    "text": {"type": "string"},
    "title": {"type": "string", "minLength": 1},
    "shape": {"type": "array", "items": integer_schema(1), "minItems": 1, "maxItems": MAX_RANK},
    "variables": {
        "type": "object",
        "propertyNames": {"pattern": IDENTIFIER, "not": {"enum": sorted(RESERVED)}},
        "additionalProperties": {"$ref": "#/$defs/value"},
    },
    "defaults": {"$ref": "#/$defs/defaults"},
    "blocks": {
        "type": "object",
        "propertyNames": {"maxLength": MAX_NAME},
        "additionalProperties": {"$ref": "#/$defs/block"},
    },
    "entries": {"type": "array", "items": {"$ref": "#/$defs/entry"}, "minItems": 1},
    "names": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
    "expect": {
        "anyOf": [
            {"$ref": "#/$defs/expectation"},
            {"type": "array", "items": {"$ref": "#/$defs/expectation"}, "minItems": 1},
        ]
    },
    "name": {"type": "string", "minLength": 1, "maxLength": MAX_NAME, "pattern": "^[^/]+$", "not": {"const": BLOCK_IN}},
    "inputs": {
        "anyOf": [
            {"type": "string", "minLength": 1},
            {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
        ]
    },
    "count": {"anyOf": [{"type": "integer", "minimum": 0}, EXPRESSION]},
    "condition": {"anyOf": [{"type": "boolean"}, EXPRESSION]},
    "layer_name": {"type": "string", "minLength": 1},
    "torch": {"type": "string", "pattern": "^(function|[A-Za-z_][A-Za-z0-9_]*)$"},
    "layer_type": {"$ref": "#/$defs/layer_type"},
    "block_name": {"type": "string", "minLength": 1, "maxLength": MAX_NAME},
    "branches": {
        "type": "array",
        "minItems": 2,
        "items": {"anyOf": [{"$ref": "#/$defs/entry"}, {"type": "array", "items": {"$ref": "#/$defs/entry"}}]},
    },
    "merge": {"$ref": "#/$defs/merge_type"},
    "params": {
        "type": "object",
        "propertyNames": {
            "pattern": IDENTIFIER,
            "not": {"enum": sorted(RESERVED | {k.name for k in ENTRY} | set(KIND_KEYS))},
        },
        "additionalProperties": {"anyOf": [{"$ref": "#/$defs/value"}, {"type": "null"}]},
    },
}


def spec_schema() -> dict:
    """The schema of the spec format, with one definition per registered layer type."""
    types = sorted(REGISTRY)
    merges = merge_types()
    expectation = {
        "type": "object",
        "description": "expected figures, for the spec as written or, with 'set', for a variable setting",
        "properties": {
            "set": {
                "type": "object",
                "description": "variables set for these figures; the others keep their defaults",
                "propertyNames": {"pattern": IDENTIFIER},
                "additionalProperties": {"$ref": "#/$defs/value"},
            },
            "convention": {
                "enum": list(CONVENTIONS),
                "description": "whose figures these are: flopcount's own (the default) or another tool's, checked by "
                "check --convention",
            },
            "source": {"type": "string", "description": "where the figures come from"},
            **_figures(),
            "layers": {
                "type": "object",
                "additionalProperties": {"$ref": "#/$defs/figures"},
                "description": "figures per layer name",
            },
            "blocks": {
                "type": "object",
                "additionalProperties": {"$ref": "#/$defs/figures"},
                "description": "figures per top-level block",
            },
        },
        "additionalProperties": False,
    }
    assert set(expectation["properties"]) == set(EXPECT_KEYS)  # check.py's table, the one it reads
    defs = {
        "expression": {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_LENGTH,
            "pattern": EXPRESSION_CHARS,
            "description": "an exact arithmetic expression over the spec's variables, e.g. 'floor(64 * alpha)'",
        },
        "padding_expression": {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_LENGTH,
            "pattern": EXPRESSION_CHARS,
            "not": {"pattern": "^[A-Za-z_]+$"},
            "description": "an expression for a padding amount; a bare word must be 'same' or 'valid'",
        },
        "reference": {
            "type": "string",
            "pattern": IDENTIFIER,
            "description": "a variable or block parameter that holds the value (a word such as an activation, or a list)",
        },
        "value": _value(),
        "layer_type": {"enum": types, "description": "the layer type"},
        "merge_type": {"enum": merges, "description": "a layer type that joins several inputs"},
        "defaults": {
            "type": "object",
            "properties": {t: _defaults_of(t) for t in types},
            "additionalProperties": False,
        },
        "entry": {
            "allOf": [
                {
                    "if": {"type": "object", "required": ["block"]},
                    "then": {"$ref": "#/$defs/block_instance"},
                    "else": {
                        "if": {"type": "object", "required": ["branches"]},
                        "then": {"$ref": "#/$defs/branches"},
                        "else": {"$ref": "#/$defs/layer"},
                    },
                },
                # else says what a skipped entry stands for: it needs when (or a repeat that may be 0),
                # and an entry of several inputs that may be skipped needs it
                {"dependentSchemas": {"else": {"anyOf": [{"required": ["when"]}, {"required": ["repeat"]}]}}},
                {
                    "if": {"required": ["when", "inputs"], "properties": {"inputs": {"type": "array", "minItems": 2}}},
                    "then": {"required": ["else"]},
                },
                {
                    "if": {
                        "required": ["repeat", "inputs"],
                        "properties": {"repeat": {"const": 0}, "inputs": {"type": "array", "minItems": 2}},
                    },
                    "then": {"required": ["else"]},
                },
            ]
        },
        "layer": {
            "type": "object",
            "required": ["type"],
            "properties": {"type": {"$ref": "#/$defs/layer_type"}},
            "allOf": [
                {
                    "if": {"properties": {"type": {"const": t}}, "required": ["type"]},
                    "then": {"$ref": f"#/$defs/layer.{t}"},
                }
                for t in types
            ],
        },
        "block_instance": {
            "type": "object",
            "description": "an instance of a block defined under 'blocks'; other keys are its parameters",
            "required": _required(KIND_KEYS["block"]),
            "properties": {**_keys(KIND_KEYS["block"]), **_keys(ENTRY, "block")},
            "not": {"anyOf": [{"required": [k]} for k in KIND_KEYS if k != "block"]},
            "propertyNames": {"pattern": IDENTIFIER},
            "additionalProperties": {"$ref": "#/$defs/value"},
        },
        "branches": {
            "type": "object",
            "description": "parallel branches from one input, joined by a merge layer; other keys are the merge layer's attributes",
            "required": _required(KIND_KEYS["branches"]),
            "properties": {**_keys(KIND_KEYS["branches"]), **_keys(ENTRY, "branches")},
            "allOf": [{"if": {"properties": {MERGE: {"const": t}}}, "then": _merged_by(t)} for t in merges],
            "not": {"anyOf": [{"required": [k]} for k in KIND_KEYS if k != "branches"]},
            "unevaluatedProperties": False,
        },
        "block": {
            "type": "object",
            "required": _required(BLOCK),
            "properties": _keys(BLOCK),
            "additionalProperties": False,
        },
        "figure": {"type": "integer", "minimum": 0},
        "figures": {
            "type": "object",
            "properties": _figures(),
            "additionalProperties": False,
            "description": "expected exact figures",
        },
        "expectation": expectation,
    }
    for t in types:
        defs[f"attributes.{t}"] = {"type": "object", "properties": attributes(t)}
        defs[f"layer.{t}"] = layer_schema(t)
    return {
        "$schema": DIALECT,
        "title": "flopcount spec",
        "description": "A neural network architecture for flopcount: variables, blocks and a layer list.",
        "type": "object",
        "required": _required(TOP),
        "properties": _keys(TOP),
        "additionalProperties": False,
        # without a top-level 'input' shape, the first layer must be an input layer
        "if": {"not": {"required": ["input"]}},
        "then": {
            "properties": {
                "layers": {
                    "prefixItems": [
                        {"type": "object", "properties": {"type": {"const": "input"}}, "required": ["type"]}
                    ]
                }
            }
        },
        "$defs": defs,
    }
