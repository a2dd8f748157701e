"""Translate a Keras model config into a spec: one function per Keras layer class, in LAYERS.

Reads the JSON of ``model.to_json()`` or the ``config.json`` inside a ``.keras`` archive,
from Keras 2 (tf.keras) and Keras 3, without TensorFlow or Keras: functional and
sequential models, models nested as layers (their layers are inlined, named
``outer.inner``) and shared layers (each further call shares the first call's weights,
so its parameters count once, as Keras counts them). Keras is channels-last, like specs.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from math import prod
from pathlib import Path

from ..errors import FlopcountError, SpecError, suggest
from . import Dims, Imported

MAX_CONFIG = 64 * 2**20  # bytes of config.json read from a .keras archive
MODELS = ("Functional", "Model", "Sequential")
MAX_NESTING = 64  # models inside models, as blocks in a spec


class KerasError(SpecError):
    """A Keras config that cannot be translated, located at a layer."""

    def __init__(self, message, *, layer=None, cls=None, **kw):
        label = f"layer '{layer}'" if layer is not None else "layer"
        super().__init__(message, context=f"{label} ({cls})" if cls else label, **kw)


@dataclass(frozen=True)
class Tensor:
    """A Keras tensor: the spec layer that produces it and its shape without the batch axis."""

    layer: str
    shape: tuple


LAYERS: dict = {}


def keras_layer(*names):
    """Register a translation function for these Keras layer classes."""

    def add(fn):
        for name in names:
            LAYERS[name] = fn
        return fn

    return add


def supported_layers() -> list[str]:
    return sorted(set(LAYERS) | set(MODELS))


def read_keras_archive(path: Path, file: str, overrides: dict, input_shapes: dict) -> Imported:
    """The config.json of a .keras archive (a zip file), translated."""
    from ..files import open_regular
    from ..spec import parse_json

    # opened as specs are (a FIFO or a device is refused at once); only the archive's directory and config.json are read
    fd = open_regular(path, "Keras archive", SpecError, file, max_bytes=None)
    try:
        with os.fdopen(fd, "rb") as f, zipfile.ZipFile(f) as archive:
            try:
                info = archive.getinfo("config.json")
            except KeyError:
                raise SpecError("a .keras archive holds config.json, but this zip file has none.", file=file) from None
            if info.file_size > MAX_CONFIG:
                raise SpecError(f"its config.json is {info.file_size:,} bytes, more than {MAX_CONFIG:,}.", file=file)
            data = archive.read(info)
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise SpecError(f"not a Keras archive (a zip file with config.json): {err}.", file=file) from None
    doc = parse_json(data, f"{file}:config.json")
    if not isinstance(doc, dict) or doc.get("class_name") not in MODELS:
        raise SpecError("its config.json is not a Keras model config (class_name and config).", file=file)
    return translate(doc, file, overrides, input_shapes)


def translate(doc: dict, file: str, overrides: dict, input_shapes: dict) -> Imported:
    """A parsed Keras model config (class_name, config) translated into a spec dict."""
    t = Translator(doc, file, overrides, input_shapes)
    try:
        spec = t.translate()
    except FlopcountError as err:
        raise err.located(file=file)
    return Imported(spec, "keras")


def _no_expression(text):
    raise SpecError(f"unexpected text where a number belongs: {text!r}")


class Translator:
    """Walks a model config's layers in call order and emits spec layers."""

    def __init__(self, doc, file, overrides, input_shapes):
        self.doc = doc
        self.file = file
        self.dims = Dims(overrides, input_shapes)
        self.keras2 = str(doc.get("keras_version", "3")).startswith("2")
        self.layers: list[dict] = []
        self.shapes: dict[str, tuple] = {}
        self.owners: dict[str, str] = {}  # Keras layer path -> the spec layer owning its weights (first call)
        self.inputs: list[str] = []

    def translate(self) -> dict:
        name = (
            str(self.doc.get("config", {}).get("name") or "model")
            if isinstance(self.doc.get("config"), dict)
            else "model"
        )
        outputs = self.model(self.doc, "", None)
        self.dims.check_inputs(self.inputs)
        self.dims.check_all_used()
        if not outputs:
            raise SpecError("the model has no outputs.")
        version = self.doc.get("keras_version")
        return {
            "name": name,
            "description": f"Imported from the Keras model config {Path(self.file).name}"
            + (f" (Keras {version})" if version else "")
            + ". Layer names are the model's layer names; a nested model's layers are named model.layer.",
            "layers": self.layers,
        }

    # ------------------------------------------------------------ emission

    def unique(self, name: str) -> str:
        name = name.replace("/", ".") or "layer"
        if name == "in":
            name = "in_"
        base, n = name, 2
        while name in self.shapes:
            name = f"{base}_{n}"
            n += 1
        return name

    def emit(self, where, name, type_, attrs, inputs, share=None) -> Tensor:
        """Add a spec layer; its output shape comes from the registry."""
        from ..layers import layer_class

        name = self.unique(name)
        entry = {"name": name, "type": type_}
        refs = [x.layer for x in inputs]
        if refs != ([self.layers[-1]["name"]] if self.layers else []):
            entry["inputs"] = refs[0] if len(refs) == 1 else refs
        if share is not None:
            entry["share"] = share
        entry.update(attrs)
        try:
            cls = layer_class(type_)
            layer = cls.from_raw(attrs, _no_expression)
            shape = tuple(layer.output_shape([x.shape for x in inputs]))
        except FlopcountError as err:
            raise where.error(f"its {type_} layer does not fit: {err.describe()}") from None
        self.layers.append(entry)
        self.shapes[name] = shape
        return Tensor(name, shape)

    # ------------------------------------------------------------ models

    depth = 0

    def model(self, doc, prefix, inputs):
        """Translate a model config; inputs are the tensors it is called on when nested, else None."""
        if self.depth >= MAX_NESTING:
            raise SpecError(f"models are nested more than {MAX_NESTING} deep.")
        self.depth += 1
        try:
            return self._model(doc, prefix, inputs)
        finally:
            self.depth -= 1

    def _model(self, doc, prefix, inputs):
        if not isinstance(doc, dict) or doc.get("class_name") not in MODELS or not isinstance(doc.get("config"), dict):
            raise SpecError(
                "not a Keras model config: class_name must be Functional, Model or Sequential with a config."
            )
        if doc["class_name"] == "Sequential":
            return self.sequential(doc["config"], prefix, inputs)
        return self.functional(doc["config"], prefix, inputs)

    def sequential(self, cfg, prefix, inputs):
        layers = cfg.get("layers")
        if not isinstance(layers, list) or not layers:
            raise SpecError("a Sequential model needs a non-empty list of layers.", attribute="config.layers")
        x = inputs[0] if inputs else None
        for raw in layers:
            layer = Layer(raw, prefix)
            if layer.cls == "InputLayer":
                if x is None:
                    x = self.input_layer(layer)
                continue
            if x is None:
                shape = (
                    layer.cfg.get("batch_input_shape") or layer.cfg.get("batch_shape") or cfg.get("build_input_shape")
                )
                if shape is None:
                    raise layer.error(
                        "a Sequential model without an input shape (no InputLayer, no batch_input_shape)."
                    )
                x = self.new_input(layer, f"{prefix}input", shape)
            (x,) = self.call(layer, [x], 0)
        return [x]

    def functional(self, cfg, prefix, inputs):
        layers = cfg.get("layers")
        if not isinstance(layers, list) or not layers:
            raise SpecError("a functional model needs a non-empty list of layers.", attribute="config.layers")
        parsed = [Layer(raw, prefix) for raw in layers]
        tensors: dict[tuple, Tensor] = {}
        model_inputs = _refs(cfg.get("input_layers"))
        if inputs is not None:
            if len(inputs) != len(model_inputs):
                raise SpecError(f"a nested model with {len(model_inputs)} inputs is called on {len(inputs)}.")
            for ref, x in zip(model_inputs, inputs):
                tensors[ref] = x
        pending = [(layer, i, node) for layer in parsed for i, node in enumerate(layer.nodes)]
        for layer in parsed:
            if layer.cls == "InputLayer" and not layer.nodes and (layer.name, 0, 0) not in tensors:
                tensors[(layer.name, 0, 0)] = self.input_layer(layer)
        while pending:
            left = []
            for layer, i, node in pending:
                refs = node.refs
                if all(r in tensors for r in refs + list(node.named.values())):
                    named = {key: tensors[r] for key, r in node.named.items()}
                    outs = self.call(layer, [tensors[r] for r in refs], i, named, node.options)
                    for j, out in enumerate(outs):
                        tensors[(layer.name, i, j)] = out
                else:
                    left.append((layer, i, node))
            if len(left) == len(pending):
                layer, _, node = left[0]
                missing = next(r for r in node.refs + list(node.named.values()) if r not in tensors)
                raise layer.error(
                    f"reads '{missing[0]}' (call {missing[1]}, output {missing[2]}), which nothing produces."
                )
            pending = left
        outputs = []
        for ref in _refs(cfg.get("output_layers")):
            if ref not in tensors:
                raise SpecError(f"the model's output '{ref[0]}' is produced by no layer.", attribute="output_layers")
            outputs.append(tensors[ref])
        return outputs

    def input_layer(self, layer) -> Tensor:
        shape = layer.cfg.get("batch_shape") or layer.cfg.get("batch_input_shape")
        if shape is None and layer.cfg.get("input_shape") is not None:
            shape = [None, *layer.cfg["input_shape"]]
        if not isinstance(shape, list) or len(shape) < 2:
            raise layer.error(
                "an InputLayer needs batch_shape (Keras 3) or batch_input_shape (Keras 2).",
                attribute="batch_shape",
                received=shape,
            )
        return self.new_input(layer, layer.path, shape)

    def new_input(self, layer, name, shape) -> Tensor:
        dims = [d if isinstance(d, int) and not isinstance(d, bool) and d > 0 else None for d in shape]
        full = self.dims.resolve(layer.name, dims)
        self.inputs.append(layer.name)
        name = self.unique(name)
        self.layers.append({"name": name, "type": "input", "shape": list(full[1:])})
        self.shapes[name] = tuple(full[1:])
        return Tensor(name, tuple(full[1:]))

    def call(self, layer, xs, index, named=None, options=None) -> list[Tensor]:
        """Translate one call of a layer (index > 0: a shared layer called again).

        xs are the tensors passed by position; named those passed by keyword (MultiHeadAttention's
        value=, key=), options the call's other keyword arguments (use_causal_mask=True).
        """
        if layer.cls in MODELS:
            inner = {"class_name": layer.cls, "config": layer.cfg}
            if index == 0:
                return self.model(inner, f"{layer.path}.", xs)
            # a nested model called again: its layers share the first call's weights
            prefix = f"{layer.path}_{index + 1}."
            self.share_prefix = (prefix, f"{layer.path}.")
            try:
                return self.model(inner, prefix, xs)
            finally:
                self.share_prefix = None
        fn = LAYERS.get(layer.cls)
        if fn is None:
            raise layer.error(
                f"unknown Keras layer class {layer.cls}.{suggest(layer.cls, LAYERS)} Supported: {', '.join(supported_layers())}."
            )
        name = layer.path if index == 0 else f"{layer.path}_{index + 1}"
        share = self.owners.get(layer.path) if index > 0 else None
        prefixes = getattr(self, "share_prefix", None)
        if share is None and prefixes and layer.path.startswith(prefixes[0]):
            share = self.owners.get(prefixes[1] + layer.path[len(prefixes[0]) :])
        call = Call(self, layer, name, share, named or {}, options or {})
        try:
            out = fn(call, xs)
        except FlopcountError:
            raise
        except (IndexError, KeyError, TypeError, ValueError, AttributeError, ZeroDivisionError) as err:
            # a config missing what its class requires, or holding the wrong kind of value
            raise layer.error(f"its config is malformed for {layer.cls}: {type(err).__name__}: {err}") from None
        outs = out if isinstance(out, list) else [out]
        if index == 0 and call.weighted is not None:
            self.owners[layer.path] = call.weighted
        return outs

    share_prefix = None


class Layer:
    """One layer entry of a model config: class, name, config, and its calls (inbound nodes)."""

    def __init__(self, raw, prefix):
        if (
            not isinstance(raw, dict)
            or not isinstance(raw.get("class_name"), str)
            or not isinstance(raw.get("config"), dict)
        ):
            raise SpecError(
                "each layer of a model config is an object with class_name and config.",
                attribute="layers",
                received=raw,
                has_received=True,
            )
        self.cls = raw["class_name"]
        self.cfg = raw["config"]
        self.name = str(raw.get("name") or self.cfg.get("name") or self.cls.lower())
        self.path = prefix + self.name
        self.nodes = [Inbound(n, self) for n in raw.get("inbound_nodes") or []]

    def error(self, message, attribute=None, **kw) -> KerasError:
        if "received" in kw:
            kw["has_received"] = True
        return KerasError(message, layer=self.path, cls=self.cls, attribute=attribute, **kw)

    def get(self, key, default=None):
        return self.cfg.get(key, default)


class Inbound:
    """One call of a layer: the tensors it reads, as (layer name, call index, output index).

    refs are the tensors passed by position, named those passed by keyword, options the
    other keyword arguments.
    """

    def __init__(self, raw, layer):
        refs, named, options = [], {}, {}
        kwargs = {}
        if isinstance(raw, dict):  # Keras 3: {"args": [...], "kwargs": {...}}, tensors as __keras_tensor__
            _collect(raw.get("args", []), refs)
            kwargs = raw.get("kwargs") or {}
        elif isinstance(
            raw, list
        ):  # Keras 2: [[name, node, index, kwargs], ...], keyword tensors as [name, node, index]
            for item in raw:
                if isinstance(item, list) and len(item) >= 3 and isinstance(item[0], str):
                    refs.append((item[0], int(item[1]), int(item[2])))
            first = raw[0] if raw and isinstance(raw[0], list) else []
            kwargs = first[3] if len(first) > 3 else {}
        for key, value in kwargs.items() if isinstance(kwargs, dict) else ():
            found = []
            _collect(value, found)
            if not found and isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
                found = [(value[0], int(value[1]), int(value[2]))]
            if found:
                named[str(key)] = found[0]
            else:
                options[str(key)] = value
        if not refs and not named:
            raise layer.error("a call of this layer reads no tensor.", attribute="inbound_nodes", received=raw)
        self.refs, self.named, self.options = refs, named, options


def _collect(value, refs):
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            history = value.get("config", {}).get("keras_history")
            if isinstance(history, list) and len(history) == 3:
                refs.append((str(history[0]), int(history[1]), int(history[2])))
        return
    if isinstance(value, list):
        for v in value:
            _collect(v, refs)


def _refs(raw) -> list[tuple]:
    """input_layers / output_layers: [name, node, index] or a list of them."""
    if isinstance(raw, list) and len(raw) == 3 and isinstance(raw[0], str):
        raw = [raw]
    out = []
    for item in raw or []:
        if isinstance(item, list) and len(item) == 3:
            out.append((str(item[0]), int(item[1]), int(item[2])))
    return out


class Call:
    """The context of one layer call for a translation function."""

    def __init__(self, t, layer, name, share, named=None, options=None):
        self.t = t
        self.layer = layer
        self.name = name
        self.share = share
        self.named = named or {}  # tensors passed by keyword
        self.options = options or {}  # the call's other keyword arguments
        self.weighted = None  # the spec layer that owns this Keras layer's weights

    def get(self, key, default=None):
        return self.layer.cfg.get(key, default)

    def error(self, message, attribute=None, **kw):
        return self.layer.error(message, attribute, **kw)

    def emit(self, type_, attrs, xs, suffix=None, weights=False) -> Tensor:
        """A spec layer; weights=True marks the one holding this Keras layer's weights (shared on later calls)."""
        name = self.name if suffix is None else f"{self.name}.{suffix}"
        share = self.share if weights else None
        out = self.t.emit(self, name, type_, attrs, xs, share)
        if weights:
            self.weighted = out.layer
        return out

    def activation(self, x, key="activation") -> Tensor:
        """The layer's fused activation, if any, as its own layer."""
        fn = _activation_name(self, self.get(key))
        if fn == "linear":
            return x
        if fn == "softmax":
            return self.emit("softmax", {}, [x], suffix=key)
        return self.emit("activation", {"fn": fn}, [x], suffix=key)


# ---------------------------------------------------------------- helpers

ACTIVATIONS = {
    "relu": "relu",
    "relu6": "relu6",
    "sigmoid": "sigmoid",
    "tanh": "tanh",
    "swish": "swish",
    "silu": "swish",
    "gelu": "gelu",
    "hard_sigmoid": "hard_sigmoid",
    "hard_silu": "hard_swish",
    "hard_swish": "hard_swish",
    "elu": "elu",
    "linear": "linear",
    "softmax": "softmax",
}


def _activation_name(call, value):
    if value is None:
        return "linear"
    if isinstance(value, dict):  # Keras 3 may serialise the function: {"class_name": "function", "config": "relu"}
        value = value.get("config") if isinstance(value.get("config"), str) else value.get("class_name")
    if not isinstance(value, str) or value not in ACTIVATIONS:
        raise call.error(
            f"activation {value!r} is not translated. Translated: {', '.join(ACTIVATIONS)}.",
            attribute="activation",
            received=value,
        )
    if value == "hard_sigmoid" and call.t.keras2:
        raise call.error(
            "Keras 2's hard_sigmoid is clip(0.2 x + 0.5, 0, 1); only Keras 3's relu6(x + 3) / 6 is translated.",
            attribute="activation",
            received=value,
        )
    return ACTIVATIONS[value]


def _pair(call, key, default=None):
    value = call.get(key, default)
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value, value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise call.error("must be an integer or a list of integers.", attribute=key, received=value)
    value = list(value)
    return value[0] if len(set(value)) == 1 else value


def _channels_last(call):
    fmt = call.get("data_format") or "channels_last"
    if fmt != "channels_last":
        raise call.error("only channels_last is translated.", attribute="data_format", received=fmt)


def _padding(call):
    mode = call.get("padding", "valid")
    if mode not in ("valid", "same"):
        raise call.error("must be 'valid' or 'same'.", attribute="padding", received=mode)
    return mode


RANKED = {1: "1d", 2: "", 3: "3d"}


def _conv_type(base, rank):
    return f"{base}{RANKED[rank]}" if base != "conv" else {1: "conv1d", 2: "conv2d", 3: "conv3d"}[rank]


def _window(call) -> dict:
    """A convolution's window attributes, in spec order: kernel, stride, padding, dilation."""
    return {
        "kernel": _pair(call, "kernel_size"),
        "stride": _pair(call, "strides", 1),
        "padding": _padding(call),
        "dilation": _pair(call, "dilation_rate", 1),
    }


CONV_DEFAULTS = {"stride": 1, "dilation": 1, "groups": 1, "multiplier": 1, "padding": "valid"}


def _drop_defaults(attrs):
    """Drops from attrs, in place, the window attributes that hold the spec's default (a spec states only what differs)."""
    for key, default in CONV_DEFAULTS.items():
        if key in attrs and attrs[key] == default:
            del attrs[key]


# ---------------------------------------------------------------- layer classes


@keras_layer("Conv1D", "Conv2D", "Conv3D")
def _conv(call, xs):
    _channels_last(call)
    rank = int(call.layer.cls[-2])
    attrs = {
        "filters": call.get("filters"),
        **_window(call),
        "groups": call.get("groups", 1) or 1,
        "bias": bool(call.get("use_bias", True)),
    }
    _drop_defaults(attrs)
    x = call.emit(_conv_type("conv", rank), attrs, xs, weights=True)
    return call.activation(x)


@keras_layer("DepthwiseConv1D", "DepthwiseConv2D")
def _depthwise(call, xs):
    _channels_last(call)
    rank = int(call.layer.cls[-2])
    attrs = {**_window(call), "multiplier": call.get("depth_multiplier", 1), "bias": bool(call.get("use_bias", True))}
    _drop_defaults(attrs)
    x = call.emit({1: "depthwise_conv1d", 2: "depthwise_conv2d"}[rank], attrs, xs, weights=True)
    return call.activation(x)


@keras_layer("SeparableConv2D")
def _separable(call, xs):
    _channels_last(call)
    if call.share:
        raise call.error("a shared SeparableConv2D is not supported.")
    dw = {**_window(call), "multiplier": call.get("depth_multiplier", 1), "bias": False}
    x = call.emit("depthwise_conv2d", dw, xs, suffix="depthwise")
    # Keras adds the bias after the pointwise product only
    x = call.emit(
        "conv2d",
        {"filters": call.get("filters"), "kernel": 1, "bias": bool(call.get("use_bias", True))},
        [x],
        suffix="pointwise",
    )
    return call.activation(x)


@keras_layer("Dense")
def _dense(call, xs):
    x = call.emit("dense", {"units": call.get("units"), "bias": bool(call.get("use_bias", True))}, xs, weights=True)
    return call.activation(x)


@keras_layer("BatchNormalization")
def _batch_norm(call, xs):
    axis = call.get("axis", -1)
    axis = axis[0] if isinstance(axis, list) and len(axis) == 1 else axis
    if axis not in (-1, len(xs[0].shape)):
        raise call.error(
            "only batch norm over the last (channels) axis is translated.", attribute="axis", received=axis
        )
    attrs = {"epsilon": call.get("epsilon", 0.001)}
    if not call.get("center", True):
        attrs["center"] = False
    if not call.get("scale", True):
        attrs["scale"] = False
    return call.emit("batch_norm", attrs, xs, weights=True)


@keras_layer("Activation")
def _activation(call, xs):
    fn = _activation_name(call, call.get("activation"))
    if fn == "softmax":
        return call.emit("softmax", {}, xs)
    if fn == "linear":
        return xs[0]
    return call.emit("activation", {"fn": fn}, xs)


@keras_layer("ReLU")
def _relu(call, xs):
    top, slope, threshold = call.get("max_value"), call.get("negative_slope", 0) or 0, call.get("threshold", 0) or 0
    if threshold:
        raise call.error("a threshold other than 0 is not translated.", attribute="threshold", received=threshold)
    if top is None and not slope:
        return call.emit("activation", {"fn": "relu"}, xs)
    if top == 6 and not slope:
        return call.emit("activation", {"fn": "relu6"}, xs)
    if top is None:
        return call.emit("activation", {"fn": "leaky_relu", "alpha": slope}, xs)
    raise call.error(
        "only max_value None or 6 without a negative slope is translated.", attribute="max_value", received=top
    )


@keras_layer("LeakyReLU")
def _leaky_relu(call, xs):
    alpha = call.get("negative_slope", call.get("alpha", 0.3))
    return call.emit("activation", {"fn": "leaky_relu", "alpha": alpha}, xs)


@keras_layer("ELU")
def _elu(call, xs):
    return call.emit("activation", {"fn": "elu", "alpha": call.get("alpha", 1.0)}, xs)


@keras_layer("Softmax")
def _softmax(call, xs):
    axis = call.get("axis", -1)
    if axis not in (-1, [-1], len(xs[0].shape)):
        raise call.error("only a softmax over the last axis is translated.", attribute="axis", received=axis)
    return call.emit("softmax", {}, xs)


@keras_layer("MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D", "AveragePooling3D")
def _pool(call, xs):
    _channels_last(call)
    rank = int(call.layer.cls[-2])
    kind = "max_pool" if call.layer.cls.startswith("Max") else "avg_pool"
    pool = _pair(call, "pool_size", 2)
    strides = call.get("strides")
    attrs = {"pool": pool, "padding": _padding(call)}
    if strides is not None and _pair(call, "strides") != pool:
        attrs["stride"] = _pair(call, "strides")
    if attrs["padding"] == "valid":
        del attrs["padding"]
    return call.emit(f"{kind}{RANKED[rank]}", attrs, xs)


@keras_layer("GlobalAveragePooling2D", "GlobalMaxPooling2D")
def _global_pool(call, xs):
    _channels_last(call)
    average = "Average" in call.layer.cls
    if call.get("keepdims", False):
        h, w, _ = xs[0].shape if len(xs[0].shape) == 3 else (None, None, None)
        if h is None:
            raise call.error("needs an (H, W, C) input.")
        # the same window and the same cost as the global pool, keeping the (1, 1, C) shape
        if average:
            return call.emit("adaptive_avg_pool", {"size": 1}, xs)
        return call.emit("max_pool", {"pool": [h, w]}, xs)
    return call.emit("global_avg_pool" if average else "global_max_pool", {}, xs)


@keras_layer("Flatten")
def _flatten(call, xs):
    if len(xs[0].shape) == 1:
        return xs[0]
    return call.emit("flatten", {}, xs)


@keras_layer("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D")
def _dropout(call, xs):
    return call.emit("dropout", {"rate": call.get("rate", 0.5)}, xs)


@keras_layer("ZeroPadding2D")
def _zero_pad(call, xs):
    _channels_last(call)
    padding = call.get("padding", 1)
    if isinstance(padding, list) and all(isinstance(p, list) for p in padding):
        padding = [list(p) for p in padding]
    return call.emit("zero_pad", {"padding": padding}, xs)


@keras_layer("Cropping2D")
def _crop(call, xs):
    _channels_last(call)
    return call.emit("crop", {"cropping": call.get("cropping", 0)}, xs)


@keras_layer("Add")
def _add(call, xs):
    return call.emit("add", {}, xs)


@keras_layer("Multiply")
def _multiply(call, xs):
    return call.emit("multiply", {}, xs)


@keras_layer("Concatenate")
def _concat(call, xs):
    axis = call.get("axis", -1)
    return call.emit("concat", {} if axis == -1 else {"axis": axis - 1 if axis > 0 else axis}, xs)


@keras_layer("Reshape")
def _reshape(call, xs):
    target = call.get("target_shape")
    if not isinstance(target, list) or not target:
        raise call.error("must be a list of sizes.", attribute="target_shape", received=target)
    if -1 in target:
        known = 1
        for d in target:
            known *= d if d != -1 else 1
        total = 1
        for d in xs[0].shape:
            total *= d
        target = [total // known if d == -1 else d for d in target]
    if tuple(target) == xs[0].shape:
        return xs[0]
    return call.emit("reshape", {"shape": target}, xs)


@keras_layer("Rescaling")
def _rescaling(call, xs):
    scale, offset = call.get("scale", 1.0), call.get("offset", 0.0)
    if isinstance(scale, list) or isinstance(offset, list):
        raise call.error("only one scale and offset for all channels is translated.", attribute="scale", received=scale)
    attrs = {"scale": scale}
    if offset:
        attrs["offset"] = offset
    return call.emit("rescale", attrs, xs)


@keras_layer("Normalization")
def _normalization(call, xs):
    axis = call.get("axis", -1)
    axis = axis if isinstance(axis, list) else [axis]
    if axis not in ([-1], [len(xs[0].shape)]):
        raise call.error(
            "only a normalisation per channel (the last axis) is translated.", attribute="axis", received=axis
        )
    if call.get("invert", False):
        raise call.error("invert=true is not translated.", attribute="invert", received=True)
    return call.emit("normalize", {}, xs, weights=True)


@keras_layer("Conv2DTranspose")
def _conv_transpose(call, xs):
    _channels_last(call)
    attrs = {"filters": call.get("filters"), **_window(call), "bias": bool(call.get("use_bias", True))}
    if call.get("output_padding") is not None:
        attrs["output_padding"] = _pair(call, "output_padding")
    _drop_defaults(attrs)
    x = call.emit("conv2d_transpose", attrs, xs, weights=True)
    return call.activation(x)


@keras_layer("UpSampling2D")
def _upsampling(call, xs):
    _channels_last(call)
    mode = call.get("interpolation", "nearest")
    if mode not in ("nearest", "bilinear"):
        raise call.error("only nearest and bilinear are translated.", attribute="interpolation", received=mode)
    attrs = {"scale": _pair(call, "size", 2)}
    if mode == "bilinear":
        attrs["mode"] = "bilinear"
    return call.emit("upsample", attrs, xs)


@keras_layer("Embedding")
def _embedding(call, xs):
    vocab, dim = call.get("input_dim"), call.get("output_dim")
    t = call.t
    for layer in t.layers:
        if layer["name"] == xs[0].layer and layer["type"] == "input" and "tokens" not in layer:
            layer["tokens"] = vocab  # the input holds token ids below the vocabulary
    return call.emit("embedding", {"vocab": vocab, "dim": dim}, xs, weights=True)


@keras_layer("LayerNormalization")
def _layer_norm(call, xs):
    axis = call.get("axis", -1)
    axes = axis if isinstance(axis, list) else [axis]
    rank = len(xs[0].shape)
    trailing = sorted(a - 1 if a > 0 else a + rank for a in axes)  # without the batch axis
    if trailing != list(range(rank - len(trailing), rank)):
        raise call.error("only a normalisation over trailing axes is translated.", attribute="axis", received=axis)
    attrs = {"epsilon": call.get("epsilon", 0.001)}
    if len(trailing) != 1:
        attrs["axes"] = len(trailing)
    if not call.get("center", True):
        attrs["center"] = False
    if not call.get("scale", True):
        attrs["scale"] = False
    return call.emit("layer_norm", attrs, xs, weights=True)


RECURRENT = {"SimpleRNN": "simple_rnn", "LSTM": "lstm", "GRU": "gru"}


def _recurrent_attrs(call, cfg, layer_cls):
    """Spec attributes of a Keras recurrent layer config (Keras: one bias vector per gate, GRU's reset_after two)."""
    if cfg.get("activation", "tanh") not in ("tanh", None) or cfg.get("recurrent_activation", "sigmoid") not in (
        "sigmoid",
        None,
    ):
        raise call.error(
            "only the default activations (tanh, sigmoid) are translated.",
            attribute="activation",
            received=[cfg.get("activation"), cfg.get("recurrent_activation")],
        )
    if cfg.get("go_backwards") or cfg.get("stateful"):
        raise call.error("go_backwards and stateful are not translated.", attribute="go_backwards")
    attrs = {"units": cfg.get("units")}
    if cfg.get("return_sequences"):
        attrs["return_sequences"] = True
    use_bias = cfg.get("use_bias", True)
    if layer_cls == "GRU":
        reset_after = cfg.get("reset_after", True)
        if not reset_after:
            attrs["reset_after"] = False
        attrs["biases"] = (2 if reset_after else 1) if use_bias else 0
    else:
        attrs["biases"] = 1 if use_bias else 0
    return attrs


@keras_layer("SimpleRNN", "LSTM", "GRU")
def _recurrent(call, xs):
    attrs = _recurrent_attrs(call, call.layer.cfg, call.layer.cls)
    return call.emit(RECURRENT[call.layer.cls], attrs, xs, weights=True)


@keras_layer("Bidirectional")
def _bidirectional(call, xs):
    inner = call.get("layer") or {}
    cls = inner.get("class_name")
    if cls not in RECURRENT or call.get("merge_mode", "concat") != "concat":
        raise call.error(
            "only a concatenated Bidirectional SimpleRNN, LSTM or GRU is translated.", attribute="layer", received=cls
        )
    attrs = _recurrent_attrs(call, inner.get("config") or {}, cls)
    attrs["bidirectional"] = True
    return call.emit(RECURRENT[cls], attrs, xs, weights=True)


@keras_layer("GlobalAveragePooling1D", "GlobalMaxPooling1D")
def _global_pool_1d(call, xs):
    average = "Average" in call.layer.cls
    if len(xs[0].shape) != 2:
        raise call.error("needs an (L, C) input.")
    attrs = {"axes": [0]}
    if call.get("keepdims", False):
        attrs["keepdims"] = True
    if average:
        return call.emit("mean", attrs, xs)
    x = call.emit("max_pool1d", {"pool": xs[0].shape[0]}, xs)  # one window over every step: (1, C)
    return (
        x if call.get("keepdims", False) else call.emit("reshape", {"shape": [xs[0].shape[1]]}, [x], suffix="squeeze")
    )


# ---------------------------------------------------------------- attention and wrappers


def _axes_are_sequence(axes) -> bool:
    """attention_axes that attend over the steps of a (T, D) sequence: Keras' default, axis 1 of (B, T, D)."""
    axes = axes if isinstance(axes, list) else [axes]
    return axes in ([None], [1], [-2])


@keras_layer("MultiHeadAttention")
def _multi_head_attention(call, xs):
    """Keras' MultiHeadAttention on (T, D) sequences (keras/src/layers/attention/multi_head_attention.py).

    Its weights: query and key kernels (D, heads, key_dim), a value kernel (D, heads, value_dim), each
    with a (heads, dim) bias, and an output kernel (heads, value_dim, output width) with its bias.
    Self attention, or a query attending to one other tensor (key = value), with value_dim = key_dim
    is one attention layer; otherwise the same weights and products as dense, reshape, transpose,
    matmul and softmax layers, the query scaled by 1 / sqrt(key_dim) as Keras scales it.
    """
    given = dict(zip(("query", "value", "key"), xs))
    for key, x in call.named.items():
        if key in given:
            raise call.error(f"is given {key} twice, by position and by keyword.", attribute=key)
        given[key] = x
    extra = sorted(set(given) - {"query", "value", "key"})
    if extra:
        raise call.error(f"its {extra[0]} tensor is not translated; query, value and key are.", attribute=extra[0])
    if "query" not in given or "value" not in given:
        raise call.error("needs a query and a value tensor.", attribute="inbound_nodes")
    if call.options.get("return_attention_scores"):
        raise call.error(
            "return_attention_scores is not translated; only the attention output is.",
            attribute="return_attention_scores",
        )
    query, value = given["query"], given["value"]
    key = given.get("key", value)
    for role, x in (("query", query), ("value", value), ("key", key)):
        if len(x.shape) != 2:
            raise call.error(f"is translated on (T, D) sequences, but its {role} has shape {list(x.shape)}.")
    if key.shape[0] != value.shape[0]:
        raise call.error(f"its key has {key.shape[0]} steps and its value {value.shape[0]}; they must agree.")
    if not _axes_are_sequence(call.get("attention_axes")):
        raise call.error(
            "only attention over the sequence (the default) is translated.",
            attribute="attention_axes",
            received=call.get("attention_axes"),
        )
    heads, key_dim = call.get("num_heads"), call.get("key_dim")
    value_dim = call.get("value_dim") or key_dim
    bias = bool(call.get("use_bias", True))
    out = call.get("output_shape")
    out = out[0] if isinstance(out, list) and len(out) == 1 else out
    if out is not None and not isinstance(out, int):
        raise call.error("only one output width is translated.", attribute="output_shape", received=out)
    units = out or query.shape[-1]
    causal = bool(call.options.get("use_causal_mask", False))
    if key == value and value_dim == key_dim:
        attrs = {"heads": heads, "head_dim": key_dim}
        if units != query.shape[-1]:
            attrs["units"] = units
        if not bias:
            attrs["bias"] = False
        if query == value:
            if causal:
                attrs["causal"] = True
            return call.emit("attention", attrs, [query], weights=True)
        if causal:
            raise call.error("a causal mask is translated on self attention only.", attribute="use_causal_mask")
        return call.emit("attention", attrs, [query, value], weights=True)
    if causal:
        raise call.error(
            "a causal mask is translated on self attention with value_dim = key_dim only.",
            attribute="use_causal_mask",
        )
    if call.share:
        raise call.error("a shared MultiHeadAttention with a separate key or value_dim is not supported.")
    (tq, _), (tk, _) = query.shape, key.shape
    dense = {"bias": bias}
    q = call.emit("dense", {"units": heads * key_dim, **dense}, [query], suffix="query")
    q = call.emit("rescale", {"scale": key_dim**-0.5}, [q], suffix="query.scaled")
    k = call.emit("dense", {"units": heads * key_dim, **dense}, [key], suffix="key")
    v = call.emit("dense", {"units": heads * value_dim, **dense}, [value], suffix="value")
    split = []
    for role, x, steps, width in (("query", q, tq, key_dim), ("key", k, tk, key_dim), ("value", v, tk, value_dim)):
        x = call.emit("reshape", {"shape": [steps, heads, width]}, [x], suffix=f"{role}.heads")
        split.append(call.emit("transpose", {"axes": [1, 0, 2]}, [x], suffix=f"{role}.heads_first"))
    q, k, v = split
    scores = call.emit("matmul", {"transpose_b": True}, [q, k], suffix="scores")
    probs = call.emit("softmax", {}, [scores], suffix="softmax")
    mix = call.emit("matmul", {}, [probs, v], suffix="mix")
    mix = call.emit("transpose", {"axes": [1, 0, 2]}, [mix], suffix="mix.steps_first")
    mix = call.emit("reshape", {"shape": [tq, heads * value_dim]}, [mix], suffix="mix.joined")
    return call.emit("dense", {"units": units, **dense}, [mix], suffix="output")


# classes whose translation applies to any number of leading axes: TimeDistributed passes the steps through
PER_STEP = (
    "Dense",
    "Activation",
    "ReLU",
    "LeakyReLU",
    "ELU",
    "Softmax",
    "Dropout",
    "LayerNormalization",
    "Rescaling",
)
# classes with a window: TimeDistributed runs them one rank up, with a window of 1 over the steps
RANK_UP = {
    "Conv1D": "Conv2D",
    "Conv2D": "Conv3D",
    "DepthwiseConv1D": "DepthwiseConv2D",
    "MaxPooling1D": "MaxPooling2D",
    "MaxPooling2D": "MaxPooling3D",
    "AveragePooling1D": "AveragePooling2D",
    "AveragePooling2D": "AveragePooling3D",
}
WINDOW_KEYS = ("kernel_size", "strides", "dilation_rate", "pool_size")


@keras_layer("TimeDistributed")
def _time_distributed(call, xs):
    """The wrapped layer applied to every step of a (T, ...) input with the same weights, as Keras counts them.

    A Conv2D on each of T frames is a Conv3D whose kernel spans one frame (1, k, k), stride 1 over
    the frames: the same weights and products; Flatten and GlobalAveragePooling keep the steps.
    """
    inner = call.get("layer")
    if not isinstance(inner, dict) or not isinstance(inner.get("config"), dict):
        raise call.error("needs the wrapped layer's class_name and config.", attribute="layer", received=inner)
    cls, cfg = inner.get("class_name"), dict(inner["config"])
    x = xs[0]
    if len(x.shape) < 2:
        raise call.error(f"needs a (T, ...) input with steps first, but its input has shape {list(x.shape)}.")
    steps, rest = x.shape[0], x.shape[1:]
    if cls == "Flatten":
        return x if len(rest) == 1 else call.emit("reshape", {"shape": [steps, prod(rest)]}, xs)
    if cls in ("GlobalAveragePooling1D", "GlobalAveragePooling2D") and len(rest) == int(cls[-2]) + 1:
        attrs = {"axes": list(range(1, len(rest)))}
        if cfg.get("keepdims", False):
            attrs["keepdims"] = True
        return call.emit("mean", attrs, xs)
    if cls in RANK_UP:
        rank = int(cls[-2])
        if len(rest) != rank + 1:
            raise call.error(f"wraps a {cls}, which needs steps of rank {rank + 1}, but they have shape {list(rest)}.")
        for key in WINDOW_KEYS:
            value = cfg.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                cfg[key] = [1] + [value] * rank
            elif isinstance(value, list):
                cfg[key] = [1, *value]
        cls = RANK_UP[cls]
    elif cls not in PER_STEP:
        known = sorted([*PER_STEP, *RANK_UP, "Flatten", "GlobalAveragePooling1D", "GlobalAveragePooling2D"])
        raise call.error(
            f"wraps {cls}, which TimeDistributed is not translated for. Translated: {', '.join(known)}.",
            attribute="layer",
            received=cls,
        )
    wrapped = Call(call.t, Layer({"class_name": cls, "config": cfg}, ""), call.name, call.share)
    wrapped.layer.path = call.layer.path
    out = LAYERS[cls](wrapped, xs)
    call.weighted = wrapped.weighted
    return out
