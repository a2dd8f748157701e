"""Load a JSON spec: variables, blocks and repeats expanded into a flat list of layers.

A spec's keys are the tables below (TOP, ENTRY, KIND_KEYS, BLOCK); the README documents each and
the JSON Schema is generated from them. This module checks structure and names, expands
blocks, branches and repeats, and applies defaults; each layer's own attributes are checked
by its class in the registry when the graph is built (or earlier, when an expression reads
a layer's shape with in.channels).

Every name answers for one thing: two entries that would answer to the same name (a layer,
a block instance, a repeat or one of its copies, an entry skipped by ``when``) are an error
naming both. The work of expansion is bounded before it is done: layers and skipped copies
together by ``max_layers``, the characters of all names, and every expression's steps by
one budget per spec.
"""

from __future__ import annotations

import json
import re
from collections import ChainMap
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from . import expr
from .errors import FlopcountError, SpecError, SpecNotFound, spec_error, suggest
from .files import exists, read_bounded

MAX_LAYERS = 100_000
MAX_NESTING = 64  # blocks inside blocks, far beyond any real network
MAX_NAME = 200  # characters in a name, a block's name or a type as written
MAX_NAME_CHARS = 16_000_000  # characters in all the names an expansion makes, together
WORK_PER_LAYER = 20  # expression steps per layer of max_layers: 2,000,000 by default


@dataclass(frozen=True)
class Key:
    """One key of the spec format: what its value is (schema.VALUES has each one's JSON Schema) and what it means.

    The loader checks keys against these tables, the schema is generated from them, and a test
    holds the README to documenting every one.
    """

    name: str
    value: str
    doc: str
    required: bool = False
    kinds: tuple = ("type", "block", "branches")  # the entries that take it (for ENTRY)


TOP = (
    Key("$schema", "text", "the spec's JSON Schema, for editors: flopcount schema writes it"),
    Key("name", "title", "the network's name", required=True),
    Key("description", "text", "what the spec is, in prose"),
    Key("source", "text", "where the architecture and its figures come from"),
    Key("input", "shape", "the input shape without batch, e.g. [224, 224, 3]; else the first layer is an input layer"),
    Key(
        "variables",
        "variables",
        "name: value, in order; later values and every expression may use earlier ones; --set overrides them",
    ),
    Key("defaults", "defaults", "layer type: {attribute: value}, for every layer of that type that does not give it"),
    Key("blocks", "blocks", "named reusable groups of entries with parameters"),
    Key(
        "layers",
        "entries",
        "the network: entries in order, each reading the one above unless it names its inputs",
        required=True,
    ),
    Key(
        "outputs",
        "names",
        "layers the network returns besides the last one; any other layer whose output nothing reads is reported",
    ),
    Key("expect", "expect", "figures flopcount check compares, for the spec as written or per variable setting"),
)
ENTRY = (  # keys of every entry; each kind adds its own (KIND_KEYS) and a layer its attributes
    Key("name", "name", "the entry's name (default: type_N); later entries name it in inputs"),
    Key("inputs", "inputs", "the layer or layers this one reads (default: the entry above)"),
    Key(
        "repeat",
        "count",
        "copies in sequence, n >= 0; each sees its copy number as i; a named repeat makes name_1 ... name_n",
    ),
    Key("when", "condition", "include the entry only when true; a skipped entry stands for its input"),
    Key("else", "layer_name", "what a skipped entry (or repeat 0) stands for; required when it has several inputs"),
    Key(
        "share",
        "layer_name",
        "an earlier layer whose weights this one uses instead of its own (counted there once)",
        kinds=("type",),
    ),
    Key(
        "torch",
        "torch",
        'how the PyTorch model computes this layer when not with the usual module: "function" (a '
        "torch.nn.functional call or tensor method) or the module class it uses instead (LayerNorm2d); tools that hook "
        "modules count such layers differently (see --convention)",
        kinds=("type",),
    ),
)
KIND_KEYS = {  # what an entry is, by the key that says so, and that kind's other keys
    "type": (
        Key("type", "layer_type", "a layer of this type; its attributes are the entry's other keys", required=True),
    ),
    "block": (
        Key(
            "block", "block_name", "an instance of this block; its parameters are the entry's other keys", required=True
        ),
    ),
    "branches": (
        Key(
            "branches",
            "branches",
            "parallel branches from the entry's input, each a list of entries ([] is the input itself)",
            required=True,
        ),
        Key(
            "merge",
            "merge",
            "the layer type joining the branches' outputs (concat, add, multiply); its attributes are the entry's other keys",
            required=True,
        ),
    ),
}
BLOCK = (
    Key(
        "params",
        "params",
        "parameter: default (null if every instance must give it), in order; defaults may use earlier ones",
    ),
    Key("layers", "entries", "the block's entries; in names the block's input", required=True),
    Key("description", "text", "what the block is, in prose"),
)
TOP_KEYS = tuple(k.name for k in TOP)
ENTRY_KEYS = tuple(k.name for k in ENTRY)
KINDS = tuple(KIND_KEYS)  # what an entry is: a layer, a block instance, parallel branches
MERGE = "merge"  # the layer type that joins a branches entry's branches
BLOCK_KEYS = tuple(k.name for k in BLOCK)
CLASS_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
TORCH_FUNCTION = "function"  # "torch": how the PyTorch model computes a layer, when not with its usual module
BLOCK_IN = expr.INPUT  # inside a block, the name of the block's input
REPEAT_INDEX = "i"  # inside a repeat, the 0-based copy number
RESERVED = frozenset({REPEAT_INDEX, BLOCK_IN, *expr.KEYWORDS})  # never a variable or parameter name


@dataclass
class FlatLayer:
    """One layer after expansion: raw attributes plus the variables they may use."""

    index: int
    name: str
    type: str
    raw: dict
    env: dict  # or a ChainMap over the spec's variables
    inputs: tuple[str, ...]
    group: str | None = None  # the top-level entry (block instance or repeat) it came from
    implicit: bool = False  # inputs is the layer before, not named in the spec
    share: str | None = None  # the layer whose weights this one uses instead of its own
    torch: str | None = None  # "function", or the module class the PyTorch model uses instead of the usual one
    defaulted: frozenset = frozenset()  # attributes taken from the spec's defaults for this type


@dataclass
class Spec:
    """A loaded spec: its flat layer list and where it came from."""

    name: str
    layers: list[FlatLayer]
    file: str | None = None
    variables: dict = field(default_factory=dict)
    description: str = ""
    source: str = ""
    data: dict = field(default_factory=dict)
    weights: object = None  # a model file's own weights, (layer name, weight name) -> array (importers)
    outputs: tuple[str, ...] = ()  # layers whose output the network returns besides the last one
    defaults: dict = field(default_factory=dict)  # layer type -> attribute -> value, for every layer of that type
    budget: expr.Budget = field(default_factory=lambda: expr.Budget(WORK_PER_LAYER * MAX_LAYERS))


def bundled_dir() -> Path:
    """The folder of reference specs shipped with the package."""
    return Path(__file__).parent / "specs"


def resolve_path(spec: str) -> Path:
    """A path as given, or a bundled spec by bare name ('vgg16' or 'vgg16.json')."""
    path = Path(spec)
    if exists(path, "spec", SpecError):
        return path
    stem = path.name[:-5] if path.name.endswith(".json") else path.name
    if path.name == str(spec):
        bundled = bundled_dir() / f"{stem}.json"
        if bundled.exists():
            return bundled
    names = sorted(p.stem for p in bundled_dir().glob("*.json"))
    hint = suggest(stem, names)
    raise SpecNotFound(
        f"no such file, and no bundled spec of that name.{hint} Bundled: {', '.join(names)}.", file=str(spec)
    )


def parse_overrides(pairs) -> dict:
    """['alpha=0.75', ...] (the command line's --set) into overrides {'alpha': '0.75'}."""
    out = {}
    for pair in pairs or ():
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier() or not value.strip():
            raise SpecError.about(
                "overrides", "{overrides} takes NAME=VALUE, such as alpha=0.75. Received: {pair}", pair=pair
            )
        out[name] = value.strip()
    return out


def load_spec(
    spec: str | Path, overrides: dict | None = None, max_layers: int = MAX_LAYERS, input_shapes: dict | None = None
) -> Spec:
    """Read a spec file (or bundled name) and expand it; an ONNX or Keras model file is imported first.

    For a model file, overrides set its dynamic dimensions by name and input_shapes its
    inputs' shapes ({name: (1, 3, 224, 224)}); the spec it translates to has no variables.
    """
    from . import importers

    path = resolve_path(str(spec))
    try:
        kind = importers.model_format(path)
        if kind is None:
            data = read_bounded(path, "spec", SpecError, file=str(spec))
            doc = parse_json(data, str(spec))
            if not importers.is_keras_config(doc):
                if input_shapes:
                    raise SpecError.about(
                        "input_shapes", "{input_shapes} is for model files (ONNX, Keras); a spec declares its 'input'."
                    )
                return parse_spec(
                    doc if isinstance(doc, dict) else data, file=str(spec), overrides=overrides, max_layers=max_layers
                )
            imported = importers.translate_keras(doc, str(spec), overrides, input_shapes)
        else:
            imported = importers.load_model(path, kind, str(spec), overrides, input_shapes)
        loaded = parse_spec(imported.doc, file=str(spec), max_layers=max_layers)
        loaded.weights = imported.weights
        return loaded
    except FlopcountError as err:
        raise err.located(file=str(spec))


def _reject_constant(name):
    raise SpecError(f"invalid JSON: {name} is not a JSON number.")


class _Duplicated(dict):
    """A JSON object in which a key appeared twice (JSON keeps the last silently; flopcount refuses)."""

    key = ""


def _object(pairs, found: list):
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    seen = set()
    obj = _Duplicated(obj)
    obj.key = next(k for k, _ in pairs if k in seen or seen.add(k))
    found.append(obj)
    return obj


def _find_duplicate(doc):
    """(path, key) of the first object with a repeated key, walking in document order (no recursion)."""
    stack = [(doc, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, _Duplicated):
            return path, value.key
        if isinstance(value, dict):
            items = [(v, f"{path}.{k}" if path else str(k)) for k, v in value.items()]
        elif isinstance(value, list):
            items = [(v, f"{path}[{i}]") for i, v in enumerate(value)]
        else:
            continue
        stack.extend(reversed(items))
    return None  # pragma: no cover - only called when a duplicate was seen


def parse_json(data: bytes | str, file: str | None = None):
    """Parse JSON; NaN, Infinity and a key repeated in one object are refused (decimals are made exact where they are used)."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise SpecError(f"the file is not UTF-8 text (byte {err.start}).", file=file) from None
    if not data.strip():
        raise SpecError("the file is empty; a spec is a JSON object.", file=file)
    duplicated: list = []
    try:
        doc = json.loads(data, parse_constant=_reject_constant, object_pairs_hook=lambda p: _object(p, duplicated))
    except json.JSONDecodeError as err:
        raise SpecError(f"invalid JSON at line {err.lineno}, column {err.colno}: {err.msg}.", file=file) from None
    except RecursionError:
        raise SpecError("the JSON is nested too deeply.", file=file) from None
    except ValueError as err:  # e.g. an integer literal with thousands of digits
        raise SpecError(f"invalid JSON: {str(err).split(';')[0]}.", file=file) from None
    if duplicated:
        path, key = _find_duplicate(doc)
        where = f"in {_clip(path)}" if path else "in the top-level object"
        raise SpecError(
            f"duplicate key {_clip(key)!r} {where}: JSON keeps only the last one silently, so a key may appear once.",
            file=file,
        )
    return doc


def _clip(text: str) -> str:
    return text if len(text) <= 100 else text[:97] + "..."


def parse_spec(data, file=None, overrides=None, max_layers=MAX_LAYERS) -> Spec:
    """Expand spec text (bytes, str or an already parsed dict) into a Spec."""
    doc = parse_json(data, file) if isinstance(data, (str, bytes)) else data
    if not isinstance(doc, dict):
        raise SpecError(f"a spec must be a JSON object, not {_kind(doc)}.", file=file)
    for key in doc:
        if key not in TOP_KEYS:
            raise SpecError(
                f"unknown top-level key.{suggest(key, TOP_KEYS)} Allowed: {', '.join(TOP_KEYS)}.", attribute=key
            )
    name = doc.get("name")
    if not isinstance(name, str) or not name:
        raise spec_error("a spec needs a non-empty string 'name'.", attribute="name", received=name)
    for key in TOP:
        if key.value == "text" and key.name in doc and not isinstance(doc[key.name], str):
            raise spec_error("must be a string.", attribute=key.name, received=doc[key.name])
    budget = expr.Budget(WORK_PER_LAYER * max_layers)
    variables = _variables(doc.get("variables", {}), overrides or {}, budget)
    blocks = doc.get("blocks", {})
    if not isinstance(blocks, dict):
        raise spec_error("must be an object of named block definitions.", attribute="blocks", received=blocks)
    for bname, bdef in blocks.items():
        _check_block(bname, bdef)
    defaults = _defaults(doc.get("defaults", {}))
    entries = doc.get("layers")
    if not isinstance(entries, list) or not entries:
        raise spec_error("a spec needs a non-empty list 'layers'.", attribute="layers", received=entries)
    ex = _Expander(blocks, max_layers, variables, budget, defaults)
    prev = None
    if "input" in doc:
        ex.claim("input", "the spec's input")
        ex.emit("input", "input", {"shape": doc["input"]}, variables, (), None)
        prev = "input"
    elif not (isinstance(entries[0], dict) and entries[0].get("type") == "input"):
        raise SpecError(
            "a spec needs an 'input' shape such as [224, 224, 3], or an input layer first.", attribute="input"
        )
    ex.entries(entries, variables, prev, scope=None, group=None)
    return Spec(
        name=name,
        layers=ex.out,
        file=file,
        variables=variables,
        description=str(doc.get("description", "")),
        source=str(doc.get("source", "")),
        data=doc,
        outputs=ex.outputs(doc["outputs"]) if "outputs" in doc else (),
        budget=budget,
        defaults=defaults,
    )


def _kind(value) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


def _usable(name) -> bool:
    """A name a variable or block parameter can have: an identifier the expression language leaves free."""
    return name.isidentifier() and name not in RESERVED


def _variables(raw, overrides, budget) -> dict:
    if not isinstance(raw, dict):
        raise spec_error("must be an object of name: value.", attribute="variables", received=raw)
    for name in overrides:
        if name not in raw:
            raise SpecError.about(
                "overrides",
                "{overrides} {name}: the spec has no such variable.{hint} Its variables: {listed}.",
                name=name,
                hint=suggest(name, raw),
                listed=", ".join(raw) or "none",
            )
    env = {}
    for name, value in raw.items():
        where = f"variables.{name}"
        if not _usable(name):
            raise spec_error(
                "is not a usable variable name (an identifier, not a keyword, 'i' or 'in').",
                attribute=where,
                received=name,
            )
        if name in overrides:
            # a word overrides a word ("--set act=hard_swish"); a number is never replaced by an unknown name
            words = isinstance(value, str) and isinstance(_value(value, env, budget), str)
            env[name] = _override(name, overrides[name], env, budget, words)
            continue
        try:
            env[name] = _in_order(value, env, budget, name, raw, env)
        except SpecError as err:
            raise err.located(attribute=where)
    return env


def _override(name, value, env, budget, words):
    """An overriding value; an error in it is about the overrides (--set on the command line), not the spec."""
    try:
        return _value(value, env, budget, words)
    except SpecError as err:
        raise SpecError.about("overrides", "{overrides} {name}: {reason}", name=name, reason=str(err)) from err


def _defaults(raw) -> dict:
    """The spec's defaults: layer type -> attribute -> value (the layer types and attributes are checked by the graph)."""
    if not isinstance(raw, dict):
        raise spec_error("must be an object of layer type: {attribute: value}.", attribute="defaults", received=raw)
    for type_, values in raw.items():
        if not isinstance(values, dict):
            raise spec_error(
                "must be an object of attribute: value.", attribute=f"defaults.{_clip(type_)}", received=values
            )
        for key in values:
            if key in ENTRY_KEYS or key in KINDS:
                raise SpecError(
                    f"'{key}' is not a layer attribute; defaults give attributes only.",
                    attribute=f"defaults.{_clip(type_)}.{key}",
                )
    return raw


def _in_order(value, env, budget, name, table, defined):
    """The value of one line of a table whose lines may use earlier ones (variables, a block's parameters).

    A name the table defines further down is a question of order, also where it would otherwise be
    a word: {"a": "b", "b": 2} is refused at 'a', not read as the word "b".
    """
    try:
        held = _value(value, env, budget)
    except expr.ExprError as err:
        raise _defined_below(err, name, table, defined)
    if isinstance(held, str) and held in table and held not in defined:
        raise _defined_below(expr.UndefinedVariable("", held), name, table, defined)
    return held


def _defined_below(err, name, table, defined):
    """An undefined name that the table defines further down is a question of order: say so."""
    later = err.variable if isinstance(err, expr.UndefinedVariable) else None
    if later is None or later not in table or later in defined:
        return err
    if later == name:
        return SpecError(f"'{name}' is defined in terms of itself.")
    return SpecError(f"uses '{later}' before the line that defines it; define '{later}' above '{name}'.")


def _value(value, env, budget=None, words=True):
    """A variable or argument value: a number, a boolean, an expression, a word or a list of these.

    A word is a string naming nothing the expression could read ("hard_swish", "same"): it is
    kept as it is, for an attribute that takes a word. A list ([1, 7], [[0, 1], [0, 1]]) is
    evaluated item by item here, where its expressions' variables are.
    """
    if isinstance(value, str):
        try:
            return expr.evaluate(value, env, budget)
        except expr.UndefinedVariable as err:
            if words and err.variable == value.strip():
                return value.strip()
            raise
    if isinstance(value, (bool, int, Fraction)):
        return value
    if isinstance(value, float):
        return expr.exact(value)
    if isinstance(value, list):
        return [_value(v, env, budget, words) for v in value]
    raise spec_error("must be a number, a boolean, an expression, a word or a list of these.", received=value)


def substitute(raw, env):
    """A layer attribute as written, with each name of a word or list (a block parameter such as
    "act" holding "hard_swish") replaced by what it holds; numbers stay expressions for the layer."""
    if isinstance(raw, str):
        if raw.isidentifier() and raw in env and isinstance(env[raw], (str, list)):
            held = env[raw]
            return expr.Word(held, raw) if isinstance(held, str) else held
        return raw
    if isinstance(raw, list):
        return [substitute(v, env) for v in raw]
    return raw


def _check_syntax(value):
    """A value as _value takes it, checked without evaluating: expressions must parse."""
    if isinstance(value, str):
        expr.parse(value)
    elif isinstance(value, list):
        for v in value:
            if v is None:  # null stands for "required" only as the whole default
                raise spec_error(
                    "must be a number, a boolean, an expression, a word or a list of these.", received=value
                )
            _check_syntax(v)
    elif value is not None and not isinstance(value, (bool, int, float)):
        raise spec_error(
            "must be a number, a boolean, an expression, a word or a list of these (null: required).", received=value
        )


def _check_name(name, attribute="name"):
    if not isinstance(name, str) or not name or "/" in name or name == BLOCK_IN:
        raise spec_error("must be a non-empty string without '/'.", attribute=attribute, received=name)
    if len(name) > MAX_NAME:
        raise spec_error(f"is longer than {MAX_NAME} characters.", attribute=attribute, received=name)


def _check_block(bname, bdef):
    where = f"blocks.{bname}"
    if len(bname) > MAX_NAME:
        raise spec_error(f"a block's name is at most {MAX_NAME} characters.", attribute="blocks", received=bname)
    if not isinstance(bdef, dict):
        raise spec_error("a block is an object with 'params' and 'layers'.", attribute=where, received=bdef)
    for key in bdef:
        if key not in BLOCK_KEYS:
            raise SpecError(f"unknown key in a block definition.{suggest(key, BLOCK_KEYS)}", attribute=f"{where}.{key}")
    if not isinstance(bdef.get("description", ""), str):
        raise spec_error("must be a string.", attribute=f"{where}.description", received=bdef["description"])
    params = bdef.get("params", {})
    if not isinstance(params, dict):
        raise spec_error(
            "must be an object of parameter: default (null if required).", attribute=f"{where}.params", received=params
        )
    for p, default in params.items():
        if not _usable(p) or p in ENTRY_KEYS or p in KINDS:
            raise spec_error("is not a usable parameter name.", attribute=f"{where}.params", received=p)
        try:  # read now, even if every instance gives the parameter; evaluated where it is used
            _check_syntax(default)
        except SpecError as err:
            raise err.located(attribute=f"{where}.params.{p}")
    if not isinstance(bdef.get("layers"), list) or not bdef["layers"]:
        raise spec_error(
            "a block needs a non-empty list 'layers'.", attribute=f"{where}.layers", received=bdef.get("layers")
        )


class _Expander:
    """Walks entries depth-first, emitting FlatLayers and counting them against a limit."""

    def __init__(self, blocks, max_layers, variables, budget, defaults=None):
        self.blocks = blocks
        self.variables = variables  # what every block body sees, besides its own parameters
        self.max_layers = max_layers
        self.budget = budget
        self.defaults = defaults or {}
        self.out: list[FlatLayer] = []
        self.index_of: dict[str, int] = {}  # layer name -> its index in out
        self.built: list = []  # graph nodes of out's first layers, built when an expression reads a shape
        self.count = 0  # layers emitted plus copies skipped: what max_layers bounds
        self.names: dict[str, str] = {}  # every usable name -> the layer name it stands for
        self.owners: dict[str, str] = {}  # every name taken -> what took it, for messages
        self.name_chars = 0
        self.counters: dict[str, int] = {}
        self.stack: list[str] = []  # blocks being expanded, for recursion
        self.depth = 0  # blocks and branches being expanded, for nesting
        self.sizes: dict[str, int] = {}

    def tick(self):
        """Count one layer or skipped copy against the limit, before it is made."""
        if self.count >= self.max_layers:
            raise SpecError.about(
                "max_layers",
                "the spec expands to more than the limit of {limit} layers (copies skipped by 'when' "
                "count too); raise it with {max_layers} if that is intended.",
                limit=f"{self.max_layers:,}",
            )
        self.count += 1

    def claim(self, full, owner):
        """Take a name for one entry; a second taker is an error naming both."""
        if full in self.owners:
            raise SpecError(
                f"the name '{full}' is taken twice: by {self.owners[full]} and by {owner}; names must be unique.",
                attribute="name",
            )
        self.name_chars += len(full)
        if self.name_chars > MAX_NAME_CHARS:
            raise SpecError(
                f"the spec's names together pass {MAX_NAME_CHARS:,} characters; use shorter names.", attribute="name"
            )
        self.owners[full] = owner

    def emit(self, name, type_, raw, env, inputs, group, implicit=False, share=None, torch=None):
        self.tick()
        defaults = self.defaults.get(type_, {})
        defaulted = frozenset(k for k in defaults if k not in raw)
        raw = {k: substitute(v, env) for k, v in {**defaults, **raw}.items()}
        self.index_of[name] = len(self.out)
        self.out.append(
            FlatLayer(
                len(self.out),
                name,
                type_,
                raw,
                env,
                tuple(inputs),
                group,
                implicit=implicit,
                share=share,
                torch=torch,
                defaulted=defaulted,
            )
        )
        self.names[name] = name
        return name

    def tensor(self, name):
        """The layer's output as an expression sees it (in.channels), its shape worked out only when read."""
        return expr.Tensor(lambda: self.shape_of(name))

    def shape_of(self, name):
        """The output shape of an emitted layer: the layers up to it are built as the graph builds them."""
        # the layer rules sit above this module; only a shape read reaches them
        from .graph import build_node

        index = self.index_of[name]
        while len(self.built) <= index:
            self.built.append(build_node(self.out[len(self.built)], self.index_of, self.built, self.budget))
        return self.built[index].shape

    def auto_name(self, scope, base):
        """type_N, numbered per type within a scope, skipping names already taken."""
        key = f"{scope}/{base}" if scope else base
        n = self.counters.get(key, 0) + 1
        while _qualify(scope, f"{base}_{n}") in self.owners:
            n += 1
        self.counters[key] = n
        return f"{base}_{n}"

    def entries(self, entries, env, prev, scope, group, block_in=None, local=None):
        """Expand a list of entries in order; return the name of the last layer."""
        local = {} if local is None else local
        if block_in is not None:
            local[BLOCK_IN] = block_in
        for entry in entries:
            prev = self.entry(entry, env, prev, scope, group, local)
        return prev

    def entry(self, entry, env, prev, scope, group, local):
        here = len(self.out)
        if not isinstance(entry, dict):
            raise spec_error(
                "each entry is a JSON object with a 'type', a 'block' or 'branches'.", layer=here, received=entry
            )
        label = entry.get("name") if isinstance(entry.get("name"), str) and len(entry["name"]) <= MAX_NAME else None
        try:
            return self._entry(entry, env, prev, scope, group, local)
        except FlopcountError as err:
            raise err.located(layer=here, name=_qualify(scope, label) if label else None)

    def _entry(self, entry, env, prev, scope, group, local):
        here = len(self.out)
        name = entry.get("name")
        if "name" in entry:
            _check_name(name)
        repeat = 1
        repeated = "repeat" in entry
        if repeated:
            raw = entry["repeat"]
            try:
                repeat = expr.evaluate(raw, env, self.budget) if isinstance(raw, str) else raw
            except FlopcountError as err:
                raise err.located(attribute="repeat")
            if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 0:
                raise spec_error("must be an integer >= 0.", attribute="repeat", received=raw)
        kinds = [k for k in KINDS if k in entry]
        if len(kinds) != 1:
            raise SpecError(
                "each entry needs exactly one of 'type' (a layer), 'block' (a block instance) or 'branches'.",
                attribute="type",
            )
        what = kinds[0]
        if what == "branches":
            kind = "branches"
            self.check_branches(entry)
        else:
            kind = entry[what]
            if not isinstance(kind, str):
                raise spec_error("must be a string.", attribute=what, received=kind)
            if len(kind) > MAX_NAME:
                raise spec_error(f"is longer than {MAX_NAME} characters.", attribute=what, received=kind)
        if kind == "input" and what == "type":
            if "inputs" in entry:
                raise SpecError("an input layer takes no inputs.", attribute="inputs")
            inputs = ()
        elif "inputs" in entry and entry["inputs"] is None:  # null is not "the entry above"
            raise spec_error("must be a layer name or a list of layer names.", attribute="inputs", received=None)
        else:
            inputs = self.inputs(entry.get("inputs"), prev, local)
        implicit = "inputs" not in entry
        share = None
        if "share" in entry:
            if what != "type":
                raise SpecError("share applies to a layer, not to a block instance or branches.", attribute="share")
            if not isinstance(entry["share"], str):
                raise spec_error("must name one earlier layer.", attribute="share", received=entry["share"])
            share = self.inputs(entry["share"], None, local, "share")[0]
        torch = entry.get("torch")
        if "torch" in entry:
            if what != "type":
                raise SpecError("torch applies to a layer, not to a block instance or branches.", attribute="torch")
            if not isinstance(torch, str) or not (torch == TORCH_FUNCTION or CLASS_NAME.fullmatch(torch)):
                raise spec_error(
                    f'must be "{TORCH_FUNCTION}" (the PyTorch model calls a function, not a module) or the name of '
                    'the module class it uses instead of the usual one, such as "LayerNorm2d".',
                    attribute="torch",
                    received=torch,
                )
        passed = self.passed_on(entry, inputs, prev, local, repeat)
        least = repeat * (1 if "when" in entry or what != "block" else self.min_size(kind))
        if self.count + least > self.max_layers:
            raise SpecError.about(
                "max_layers",
                "the spec would expand to at least {least} layers, more than the limit of {limit}; "
                "raise it with {max_layers} if that is intended.",
                least=f"{self.count + least:,}",
                limit=f"{self.max_layers:,}",
            ).located(attribute="repeat" if repeat > 1 else what)
        if repeated and name is not None:
            self.claim(_qualify(scope, name), f"the repeat at layer {here}")
        start = self.count
        last = passed
        for i in range(repeat):
            bound = {REPEAT_INDEX: i} if repeated else {}
            if scope is None and inputs:
                bound[BLOCK_IN] = self.tensor(inputs[0])  # outside blocks, in is the entry's own input
            copy_env = ChainMap(bound, env) if bound else env
            if name is None:
                local_name = self.auto_name(scope, kind)
            else:
                local_name = f"{name}_{i + 1}" if repeated else name
            full = _qualify(scope, local_name)
            # layers inside a block or a named repeat are grouped under the top-level entry's name
            copy_group = group or name or local_name
            copy = f"copy {i + 1} of the repeat at layer {here}" if repeated else None
            if not self.included(entry, copy_env):
                # a skipped entry stands for its input (or the one 'else' names), so references pass through
                if passed is None:
                    raise SpecError("an input layer cannot be skipped with 'when'.", attribute="when")
                self.tick()
                self.claim(full, copy or f"the entry skipped by 'when' before layer {len(self.out)}")
                last = passed
            elif what == "block":
                self.claim(full, copy or f"the block instance at layer {here}")
                last = self.block(kind, entry, copy_env, inputs, full, copy_group)
            elif what == "branches":
                self.claim(full, copy or f"the branches at layer {here}")
                last = self.branches(entry, copy_env, inputs, full, copy_group)
            else:
                self.claim(full, copy or f"layer {len(self.out)}")
                raw = {k: v for k, v in entry.items() if k not in ENTRY_KEYS and k != "type"}
                last = self.emit(full, kind, raw, copy_env, inputs, copy_group, implicit, share, torch)
            local[local_name] = last
            self.names[full] = last
            inputs = (last,)
            implicit = True
            if "else" not in entry:
                passed = last
            if i == 0 and repeat > 1:
                # project the whole repeat from its first copy so a huge one fails before it is built
                projected = self.count + (self.count - start) * (repeat - 1)
                if projected > self.max_layers:
                    raise SpecError.about(
                        "max_layers",
                        "repeat of {repeat} would expand to about {projected} layers, more than "
                        "{limit}; raise the limit with {max_layers} if that is intended.",
                        repeat=f"{repeat:,}",
                        projected=f"{projected:,}",
                        limit=f"{self.max_layers:,}",
                    ).located(attribute="repeat")
        if repeat == 0 and last is None:
            raise SpecError("an input layer cannot be repeated 0 times.", attribute="repeat")
        if repeated and name is not None:
            local[name] = last
            self.names[_qualify(scope, name)] = last
        return last

    def passed_on(self, entry, inputs, prev, local, repeat):
        """What the entry stands for when it makes nothing (skipped, or repeated 0 times): its input, or 'else'."""
        if "else" in entry:
            if "when" not in entry and "repeat" not in entry:
                raise SpecError(
                    "'else' names what an entry stands for when 'when' skips it; this entry has no 'when'.",
                    attribute="else",
                )
            raw = entry["else"]
            if not isinstance(raw, str):
                raise spec_error("must be the name of one earlier layer.", attribute="else", received=raw)
            return self.inputs(raw, prev, local, "else")[0]
        if len(inputs) > 1 and ("when" in entry or repeat == 0):  # 0 as written or as an expression's value
            raise SpecError(
                f"this entry reads {len(inputs)} inputs; when it is skipped it cannot stand for one of them "
                'silently: name the one it passes on with "else".',
                attribute="when" if "when" in entry else "repeat",
            )
        return inputs[0] if inputs else None

    def included(self, entry, env) -> bool:
        """Evaluate an entry's optional 'when' condition."""
        if "when" not in entry:
            return True
        raw = entry["when"]
        try:
            value = expr.evaluate(raw, env, self.budget) if isinstance(raw, str) else raw
        except FlopcountError as err:
            raise err.located(attribute="when")
        if not isinstance(value, bool):
            raise spec_error('must be true or false (a condition such as "i == 0").', attribute="when", received=raw)
        return value

    def inputs(self, raw, prev, local, attribute="inputs"):
        if raw is None:
            if prev is None:
                raise SpecError("the first layer has no input; declare the spec's 'input' shape.", attribute="inputs")
            return (prev,)
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list) or not raw or not all(isinstance(r, str) for r in raw):
            raise spec_error("must be a layer name or a list of layer names.", attribute=attribute, received=raw)
        what = {"inputs": "take inputs from", "share": "share the weights of"}.get(attribute, "stand for")
        return tuple(self.resolve(ref, local, attribute, f" A layer can only {what} layers above it.") for ref in raw)

    def resolve(self, ref, local, attribute, where):
        """The layer a name stands for, looked up in the enclosing block first."""
        if ref in local:
            return local[ref]
        if ref in self.names:
            return self.names[ref]
        # the nearest names first: a typo is most likely of a layer just above
        known = list(reversed(local)) + list(reversed(self.names))
        raise spec_error(
            f"names no earlier layer.{suggest(ref, known)}{where}",
            attribute=attribute,
            received=ref,
        )

    def outputs(self, raw) -> tuple[str, ...]:
        """The layers named in 'outputs': network outputs besides the last one."""
        if not isinstance(raw, list) or not raw or not all(isinstance(r, str) for r in raw):
            raise spec_error("must be a list of layer names.", attribute="outputs", received=raw)
        return tuple(self.resolve(ref, {}, "outputs", "") for ref in raw)

    def min_size(self, bname, depth=0) -> int:
        """A lower bound on the layers and skipped copies one instance of a block expands to (literal repeats only)."""
        if bname in self.sizes:
            return self.sizes[bname]
        bdef = self.blocks.get(bname)
        if bdef is None or depth > MAX_NESTING:
            return 0  # unknown or too deep: expansion reports it
        self.sizes[bname] = 0  # a recursive block is reported by expansion
        total = 0
        for entry in bdef["layers"]:
            if not isinstance(entry, dict):
                continue
            repeat = entry.get("repeat", 1)
            repeat = repeat if isinstance(repeat, int) and not isinstance(repeat, bool) and repeat >= 0 else 0
            inner = entry.get("block")
            each = self.min_size(inner, depth + 1) if isinstance(inner, str) else 1
            total += repeat * (min(each, 1) if "when" in entry else each)
        self.sizes[bname] = total
        return total

    def nest(self, what):
        if self.depth >= MAX_NESTING:
            nested = "blocks are" if what == "block" else "branches and blocks are"
            raise SpecError(f"{nested} nested more than {MAX_NESTING} deep.", attribute=what)
        self.depth += 1

    def block(self, bname, entry, env, inputs, full, group):
        if bname not in self.blocks:
            raise spec_error(
                f"unknown block.{suggest(bname, self.blocks)} Defined blocks: {', '.join(self.blocks) or 'none'}.",
                attribute="block",
                received=bname,
            )
        if bname in self.stack:
            chain = " -> ".join(self.stack[self.stack.index(bname) :] + [bname])
            raise SpecError(f"block '{bname}' uses itself ({chain}); blocks cannot be recursive.", attribute="block")
        if len(inputs) != 1:
            raise spec_error("a block instance takes exactly one input.", attribute="inputs", received=list(inputs))
        bdef = self.blocks[bname]
        params = bdef.get("params", {})
        args = {k: v for k, v in entry.items() if k not in ENTRY_KEYS and k != "block"}
        for key in args:
            if key not in params:
                listed = ", ".join(params) or "none"
                raise SpecError(
                    f"block '{bname}' has no parameter of this name.{suggest(key, params)} Its parameters: {listed}.",
                    attribute=key,
                )
        # block bodies see the spec's variables, their own parameters and their input as in;
        # arguments are evaluated where the instance is written, defaults in order inside the block
        bound = {}
        for p in params:
            if p in args:
                try:
                    bound[p] = _value(args[p], env, self.budget)
                except SpecError as err:
                    raise err.located(attribute=p)
        benv = ChainMap(bound, {BLOCK_IN: self.tensor(inputs[0])}, self.variables)
        for p, default in params.items():
            if p in args:
                continue
            if default is None:
                raise SpecError(f"block '{bname}' needs this parameter.", attribute=p)
            try:
                bound[p] = _in_order(default, benv, self.budget, p, params, bound)
            except SpecError as err:
                raise err.located(attribute=f"blocks.{bname}.params.{p}")
        self.nest("block")
        self.stack.append(bname)
        try:
            return self.entries(bdef["layers"], benv, inputs[0], scope=full, group=group, block_in=inputs[0])
        finally:
            self.stack.pop()
            self.depth -= 1

    @staticmethod
    def check_branches(entry):
        branches = entry["branches"]
        if not isinstance(branches, list) or len(branches) < 2:
            raise spec_error(
                "must be a list of two or more branches, each a list of entries (or one entry).",
                attribute="branches",
                received=branches,
            )
        for k, branch in enumerate(branches):
            if not isinstance(branch, (list, dict)):
                raise spec_error(
                    "each branch is a list of entries, one entry, or [] for the input itself.",
                    attribute=f"branches[{k}]",
                    received=branch,
                )
        merge = entry.get(MERGE)
        if not isinstance(merge, str) or not merge or len(merge) > MAX_NAME:
            raise spec_error(
                'branches need a \'merge\': the layer type that joins them, such as "concat" or "add".',
                attribute=MERGE,
                received=merge,
            )

    def branches(self, entry, env, inputs, full, group):
        """Parallel branches from one input, joined by a merge layer; names live under the entry's, like a block's."""
        if len(inputs) != 1:
            raise spec_error("branches take exactly one input.", attribute="inputs", received=list(inputs))
        self.nest("branches")
        try:
            benv = ChainMap({BLOCK_IN: self.tensor(inputs[0])}, env)
            local = {BLOCK_IN: inputs[0]}
            outs = []
            for branch in entry["branches"]:
                branch = [branch] if isinstance(branch, dict) else branch
                outs.append(self.entries(branch, benv, inputs[0], scope=full, group=group, local=local))
        finally:
            self.depth -= 1
        merge = entry[MERGE]
        joined = _qualify(full, merge)
        self.claim(joined, f"the merge of the branches at layer {len(self.out)}")
        raw = {k: v for k, v in entry.items() if k not in ENTRY_KEYS and k not in KINDS and k != MERGE}
        return self.emit(joined, merge, raw, env, outs, group)


def _qualify(scope, name):
    return f"{scope}/{name}" if scope else name
