"""A JSON Schema (draft 2020-12) for specs, generated from the layer registry.

Editors that read ``$schema`` use it for completion and validation. The schema mirrors
what the loader accepts: each layer type's attributes with their kinds, defaults and
ranges; a numeric attribute may also be an expression string (``"floor(64 * alpha)"``),
which only the loader can evaluate; unknown attributes are refused.
"""

from __future__ import annotations

from .check import FIGURES
from .expr import MAX_LENGTH, plain
from .layers import REGISTRY, REQUIRED, Attr
from .layers.kinds import EXPRESSION, integer_schema
from .layers.conventions import CONVENTIONS
from .spec import BLOCK_IN, ENTRY_KEYS, MAX_NAME, RESERVED

DIALECT = "https://json-schema.org/draft/2020-12/schema"
IDENTIFIER = "^[A-Za-z_][A-Za-z0-9_]*$"
EXPRESSION_CHARS = "^[\\sA-Za-z0-9_.+\\-*/%()<>=!,]+$"  # the tokens of flopcount.expr

_int = integer_schema  # an integer, or an expression the loader evaluates to one


def attribute_schema(attr: Attr) -> dict:
    """One attribute: its kind's own schema (layers.kinds) with description and default."""
    out = dict(attr.kind.schema())
    if attr.doc:
        out["description"] = attr.doc
    if attr.default is not REQUIRED and attr.default is not None:
        out["default"] = plain(attr.default)
    return out


def layer_schema(type_name: str) -> dict:
    """A layer entry of one type: its attributes, plus name, inputs and repeat."""
    cls = REGISTRY[type_name]
    properties = {
        "type": {"const": type_name},
        "name": {"$ref": "#/$defs/name"},
        "inputs": {"$ref": "#/$defs/inputs"},
        "repeat": {"$ref": "#/$defs/repeat"},
        "when": {"$ref": "#/$defs/condition"},
        "else": {"$ref": "#/$defs/passed_on"},
        "share": {
            "type": "string",
            "minLength": 1,
            "description": "a layer above whose weights this one uses instead of its own (counted there once)",
        },
        "torch": {
            "type": "string",
            "pattern": "^(function|[A-Za-z_][A-Za-z0-9_]*)$",
            "description": "how the PyTorch model computes this layer when not with the usual module: \"function\" "
            "(a torch.nn.functional call or tensor method) or the module class it uses instead (LayerNorm2d); "
            "tools that hook modules count such layers differently (see --convention)",
        },
    }
    for attr in cls.attrs:
        properties[attr.name] = attribute_schema(attr)
    out = {
        "type": "object",
        "description": cls.doc,
        "properties": properties,
        "required": ["type"] + [a.name for a in cls.attrs if a.default is REQUIRED],
        "additionalProperties": False,
    }
    return out


def _figures() -> dict:
    return {f: {"$ref": "#/$defs/figure"} for f in FIGURES}


def spec_schema() -> dict:
    """The schema of the spec format, with one definition per registered layer type."""
    types = sorted(REGISTRY)
    value = {
        "anyOf": [{"type": "number"}, {"type": "boolean"}, EXPRESSION],
        "description": "a number, a boolean or an expression string",
    }
    figures = {
        "type": "object",
        "properties": _figures(),
        "additionalProperties": False,
        "description": "expected exact figures",
    }
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
            "layers": {"type": "object", "additionalProperties": {"$ref": "#/$defs/figures"}, "description": "figures per layer name"},
            "blocks": {"type": "object", "additionalProperties": {"$ref": "#/$defs/figures"}, "description": "figures per top-level block"},
        },
        "additionalProperties": False,
    }
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
        "value": value,
        "name": {"type": "string", "minLength": 1, "maxLength": MAX_NAME, "pattern": "^[^/]+$", "not": {"const": BLOCK_IN}},
        "inputs": {
            "anyOf": [
                {"type": "string", "minLength": 1},
                {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
            ],
            "description": "the layer (or layers) this one reads; default: the layer above",
        },
        "repeat": {"anyOf": [{"type": "integer", "minimum": 0}, EXPRESSION], "description": "number of copies in sequence (0: none, the entry passes its input on)"},
        "passed_on": {
            "type": "string",
            "minLength": 1,
            "description": "the layer a skipped entry stands for; required when a skipped entry has several inputs",
        },
        "condition": {
            "anyOf": [{"type": "boolean"}, EXPRESSION],
            "description": "include this entry only when true, e.g. \"i == 0\"; a skipped entry passes its input through",
        },
        "entry": {
            "if": {"type": "object", "required": ["block"]},
            "then": {"$ref": "#/$defs/block_instance"},
            "else": {"$ref": "#/$defs/layer"},
        },
        "layer": {
            "type": "object",
            "required": ["type"],
            "properties": {"type": {"enum": types, "description": "the layer type"}},
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
            "required": ["block"],
            "properties": {
                "block": {"type": "string", "minLength": 1},
                "name": {"$ref": "#/$defs/name"},
                "inputs": {"$ref": "#/$defs/inputs"},
                "repeat": {"$ref": "#/$defs/repeat"},
                "when": {"$ref": "#/$defs/condition"},
                "else": {"$ref": "#/$defs/passed_on"},
            },
            "not": {"required": ["type"]},
            "propertyNames": {"pattern": IDENTIFIER},
            "additionalProperties": {"$ref": "#/$defs/value"},
        },
        "block": {
            "type": "object",
            "required": ["layers"],
            "properties": {
                "description": {"type": "string"},
                "params": {
                    "type": "object",
                    "description": "parameter: default, or null if every instance must give it",
                    "propertyNames": {"pattern": IDENTIFIER, "not": {"enum": sorted(RESERVED | {"block", *ENTRY_KEYS})}},
                    "additionalProperties": {"anyOf": [{"$ref": "#/$defs/value"}, {"type": "null"}]},
                },
                "layers": {"type": "array", "items": {"$ref": "#/$defs/entry"}, "minItems": 1},
            },
            "additionalProperties": False,
        },
        "figure": {"type": "integer", "minimum": 0},
        "figures": figures,
        "expectation": expectation,
    }
    for t in types:
        defs[f"layer.{t}"] = layer_schema(t)
    properties = {
        "$schema": {"type": "string", "description": "this schema, for editors"},
        "name": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "source": {"type": "string", "description": "where the architecture and its figures come from"},
        "input": {"type": "array", "items": _int(1), "minItems": 1, "description": "input shape without batch, e.g. [224, 224, 3]"},
        "variables": {
            "type": "object",
            "propertyNames": {"pattern": IDENTIFIER, "not": {"enum": sorted(RESERVED)}},
            "additionalProperties": {"$ref": "#/$defs/value"},
        },
        "blocks": {"type": "object", "additionalProperties": {"$ref": "#/$defs/block"}},
        "layers": {"type": "array", "items": {"$ref": "#/$defs/entry"}, "minItems": 1},
        "outputs": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "minItems": 1,
            "description": "layers the network returns besides the last one; any other layer nothing reads is reported",
        },
        "expect": {
            "anyOf": [
                {"$ref": "#/$defs/expectation"},
                {"type": "array", "items": {"$ref": "#/$defs/expectation"}, "minItems": 1},
            ],
            "description": "figures flopcount check compares, for the spec as written or per variable setting",
        },
    }
    return {
        "$schema": DIALECT,
        "title": "flopcount spec",
        "description": "A neural network architecture for flopcount: variables, blocks and a layer list.",
        "type": "object",
        "required": ["name", "layers"],
        "properties": properties,
        "additionalProperties": False,
        # without a top-level 'input' shape, the first layer must be an input layer
        "if": {"not": {"required": ["input"]}},
        "then": {
            "properties": {
                "layers": {"prefixItems": [{"type": "object", "properties": {"type": {"const": "input"}}, "required": ["type"]}]}
            }
        },
        "$defs": defs,
    }
