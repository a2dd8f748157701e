"""Importers: other frameworks' model files translated into spec dicts.

An importer maps an ONNX node or a Keras layer config to spec entries of the one
registry; it never counts. ``open_model`` recognises a model file from its name and
first bytes without reading it; ``load_model`` translates it. A Keras ``to_json()`` file
is JSON like a spec, so it is recognised after parsing, by ``is_keras_config``.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import SpecError, suggest

ZIP_MAGIC = b"PK\x03\x04"


@dataclass
class Imported:
    """A model file translated: the spec dict, and what running it with the file's weights needs."""

    doc: dict
    format: str  # "onnx" or "keras"
    weights: object = None  # a weight source (layer name, weight name) -> array, or None
    notes: list = field(default_factory=list)


def model_format(path: Path) -> str | None:
    """'onnx' or 'keras' when path is a model file of another framework, else None (a spec).

    Decided by the suffix, or for other names by the first bytes of a regular file: a
    zip archive is a Keras archive, a protocol buffer starting with ONNX's ir_version
    field (tag 0x08) is ONNX. Only a few bytes are read, and nothing from a non-regular file.
    """
    suffix = path.suffix.lower()
    if suffix == ".onnx":
        return "onnx"
    if suffix == ".keras":
        return "keras"
    if suffix == ".json":
        return None
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return None
    # ir_version (field 1, varint) is the first field a ModelProto serializes; versions are 1-11 today
    if head == ZIP_MAGIC:
        return "keras"
    if len(head) >= 2 and head[0] == 0x08 and 1 <= head[1] <= 0x20:
        return "onnx"
    return None


def load_model(
    path: Path, kind: str, file: str, overrides: dict | None = None, input_shapes: dict | None = None
) -> Imported:
    """Translate the model file at path (named file in messages) into a spec dict."""
    if kind == "onnx":
        from .onnx import read_onnx

        return read_onnx(path, file, overrides or {}, input_shapes or {})
    from .keras import read_keras_archive

    return read_keras_archive(path, file, overrides or {}, input_shapes or {})


def is_keras_config(doc) -> bool:
    """True for the JSON of a Keras model (``model.to_json()``): class_name and config at the top."""
    return isinstance(doc, dict) and "class_name" in doc and "config" in doc and "layers" not in doc


def translate_keras(doc: dict, file: str, overrides: dict | None = None, input_shapes: dict | None = None) -> Imported:
    """A parsed Keras model config translated into a spec dict."""
    from .keras import translate

    return translate(doc, file, overrides or {}, input_shapes or {})


def parse_input_shapes(pairs) -> dict[str, tuple]:
    """['input=1x3x224x224', ...] (the command line's --input-shape) into {'input': (1, 3, 224, 224)}."""
    out = {}
    for pair in pairs or ():
        name, sep, dims = pair.rpartition("=")
        parts = dims.strip().lower().split("x")
        if not sep or not name or len(parts) > 8 or not all(p.isdigit() and 0 < int(p) <= 10**15 for p in parts):
            raise SpecError.about(
                "input_shapes",
                "{input_shapes} takes NAME=DIMS, positive dimensions joined by x with the batch first, such as "
                "input=1x3x224x224. Received: {pair}",
                pair=pair,
            )
        out[name] = tuple(int(p) for p in parts)
    return out


class Dims:
    """Resolves a model's input dimensions: fixed in the file, named (a dim_param) or unknown.

    A whole input's shape comes from input_shapes; a named dimension from overrides
    (``--set height=224``); an unknown batch axis (the first) is 1, since figures are per
    sample; any other unresolved dimension is an error saying which.
    """

    def __init__(self, overrides: dict, input_shapes: dict):
        self.overrides = dict(overrides)
        self.input_shapes = dict(input_shapes)
        self.named: list[str] = []
        self.used: set[str] = set()

    def resolve(self, name: str, dims: list) -> tuple:
        """dims: per axis an int (fixed), a str (a named dynamic dimension) or None (unknown)."""
        for d in dims:
            if isinstance(d, str) and d not in self.named:
                self.named.append(d)
                if d in self.overrides:
                    self.used.add(d)
        given = self.input_shapes.get(name)
        if given is not None:
            if len(given) != len(dims):
                raise SpecError.about(
                    "input_shapes",
                    "{input_shapes} {name}: the input has {n} dimensions, the shape given {m}.",
                    name=name,
                    n=len(dims),
                    m=len(given),
                )
            for axis, (d, g) in enumerate(zip(dims, given)):
                if isinstance(d, int) and d != g and axis != 0:
                    raise SpecError.about(
                        "input_shapes",
                        "{input_shapes} {name}: axis {axis} has the fixed size {d} in the file, not {g}.",
                        name=name,
                        axis=axis,
                        d=d,
                        g=g,
                    )
            return tuple(given)
        shape = []
        for axis, d in enumerate(dims):
            if isinstance(d, int):
                shape.append(d)
            elif isinstance(d, str) and d in self.overrides:
                raw = str(self.overrides[d])
                if not raw.isdigit() or not 0 < int(raw) <= 10**15:
                    raise SpecError.about(
                        "overrides",
                        "{overrides} {dim}: a dimension is a positive integer. Received: {dim}={raw}",
                        dim=d,
                        raw=raw,
                    )
                shape.append(int(raw))
            elif axis == 0:
                shape.append(1)  # the batch axis: figures are per sample
            else:
                example = "x".join(str(v) if isinstance(v, int) else "N" for v in dims)
                label = f" ('{d}')" if isinstance(d, str) else ""
                also = " or {overrides} {dim}=N" if isinstance(d, str) else ""
                raise SpecError.about(
                    "input_shapes",
                    "input '{name}' has a dynamic dimension on axis {axis}{label}; set it with {input_shapes} "
                    "{name}={example}" + also + ".",
                    name=name,
                    axis=axis,
                    label=label,
                    example=example,
                    dim=d,
                )
        return tuple(shape)

    def check_inputs(self, inputs: list[str]):
        """Every input shape names an input."""
        for name in self.input_shapes:
            if name not in inputs:
                raise SpecError.about(
                    "input_shapes",
                    "{input_shapes} {name}: the model has no input of that name.{hint} Its inputs: {inputs}.",
                    name=name,
                    hint=suggest(name, inputs),
                    inputs=", ".join(inputs),
                )

    def check_all_used(self):
        """Every override names a dynamic dimension (call after resolving every input)."""
        for d in self.overrides:
            if d not in self.used:
                raise SpecError.about(
                    "overrides",
                    "{overrides} {dim}: the model has no dynamic dimension of that name. Its dynamic "
                    "dimensions: {named}.",
                    dim=d,
                    named=", ".join(self.named) or "none",
                )


def import_spec(model: str, overrides: dict | None = None, input_shapes: dict | None = None) -> str:
    """The spec a model file translates to, as readable JSON text (checked by building its graph first)."""
    from ..graph import build_graph
    from ..spec import parse_json, parse_spec

    path = Path(model)
    if not path.exists():
        raise SpecError("no such file.", file=model)
    kind = model_format(path)
    if kind is None:
        from ..files import read_bounded

        doc = parse_json(read_bounded(path, "model", SpecError, file=model), model)
        if not is_keras_config(doc):
            raise SpecError(
                "is not a model file: import reads ONNX files (.onnx), Keras archives (.keras) and "
                "Keras model.to_json() files.",
                file=model,
            )
        imported = translate_keras(doc, model, overrides, input_shapes)
    else:
        imported = load_model(path, kind, model, overrides, input_shapes)
    try:
        build_graph(parse_spec(imported.doc, file=model))
    except SpecError as err:
        raise err.located(file=model)
    return spec_text(imported.doc)


def spec_text(doc: dict) -> str:
    """A spec dict as JSON with one layer per line, the way the bundled specs are written."""
    import json

    head = [f"  {json.dumps(k)}: {json.dumps(v)}," for k, v in doc.items() if k != "layers"]
    layers = [f"    {json.dumps(layer)}" for layer in doc["layers"]]
    return "{\n" + "\n".join(head) + '\n  "layers": [\n' + ",\n".join(layers) + "\n  ]\n}\n"
