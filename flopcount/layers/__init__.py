"""The registry of layer types: each class holds one type's attributes and all of its rules.

One module per family (convolution, pooling, dense, normalization, activation, merge,
shape, io) holds the types; ``base`` holds the Layer class and the registry, ``kinds``
the attribute kinds (each converts a JSON value and describes itself for the JSON
Schema) and ``window`` the sliding-window rule for 1 to 3 spatial axes.

Counting conventions (mirrored in the README):

* ``macs``: multiply-accumulates of convolutions and dense layers, one per product
  that is summed (N x D_G^2 x D_K^2 x M for a standard convolution). Nothing else
  is a MAC.
* ``other_ops``: every other floating-point operation at inference, counted per
  output element: a bias add is 1, batch norm is 2 (one scale, one shift once folded),
  an activation is 1 whatever its function, an n-way add is n - 1, a pooling window
  of k elements is k - 1 comparisons (max) or k - 1 additions plus 1 division (avg),
  softmax is 3 (exponential, sum, division). FLOPs = 2 x macs + other_ops.
* ``params``: sizes of the weight arrays a layer declares in ``weights`` (each a
  :class:`Weight` with its shape, trainable flag and the initialiser a run uses); batch
  norm's moving mean and variance are non-trainable, as in Keras.
* Free layers (input, flatten, dropout, zero_pad, concat) say ``free = True`` and are
  listed in FREE: zero cost on purpose.

Shapes are tuples without the batch axis, channels last: (H, W, C) for images as in
the MobileNet paper's (D_F, D_F, M), (L, C) for sequences, (D, H, W, C) for volumes,
(C,) for vectors. ``forward`` receives arrays with a leading batch
axis, a mapping of weights and ``k``, the runner's kernel module; this package never
imports NumPy.
"""

from .activation import ACTIVATIONS, Activation, Softmax
from .attention import Attention, MatMul
from .base import (
    FREE,
    NEAR_ONE,
    NEAR_ZERO,
    POSITIVE,
    REGISTRY,
    REQUIRED,
    Attr,
    Init,
    Layer,
    Weight,
    bias_ops,
    bias_weight,
    fan_in,
    fmt_shape,
    layer_class,
    register,
)
from .convolution import (
    Conv,
    Conv1D,
    Conv1DTranspose,
    Conv2D,
    Conv2DTranspose,
    Conv3D,
    Conv3DTranspose,
    ConvTranspose,
    DepthwiseConv,
    DepthwiseConv1D,
    DepthwiseConv2D,
    DepthwiseConv3D,
)
from .dense import Dense
from .embedding import Embedding, Parameter

# importing a family registers its types
from .io import Input
from .kinds import (
    AXES,
    KINDS,
    MAX_INTEGER,
    MAX_RANK,
    Bool,
    Choice,
    Fraction01,
    Integer,
    Kind,
    Number,
    PadAmount,
    Padding,
    Shape,
    Sizes,
)
from .merge import Add, Concat, Multiply
from .normalization import BatchNorm, GroupNorm, InstanceNorm, LayerNorm, RMSNorm
from .pooling import (
    AdaptiveAvgPool,
    AvgPool,
    AvgPool1D,
    AvgPool3D,
    GlobalAvgPool,
    GlobalMaxPool,
    MaxPool,
    MaxPool1D,
    MaxPool3D,
    Mean,
    _bin_sizes,
)
from .preprocessing import Normalize, Rescale
from .recurrent import GRU, LSTM, SimpleRNN
from .resample import PixelShuffle, Upsample, Upsample1D, Upsample2D, Upsample3D
from .shape import (
    ChannelShuffle,
    Crop,
    Crop1D,
    Crop2D,
    Crop3D,
    Dropout,
    Flatten,
    Reshape,
    Select,
    Slice,
    Split,
    Transpose,
    ZeroPad,
    ZeroPad1D,
    ZeroPad2D,
    ZeroPad3D,
)
from .window import Sliding, out_size, resolve_pads, spatial, whole_map, window_attrs

__all__ = [
    "ACTIVATIONS",
    "AXES",
    "KINDS",
    "Bool",
    "Choice",
    "Fraction01",
    "Integer",
    "Kind",
    "Number",
    "PadAmount",
    "Padding",
    "Shape",
    "Sizes",
    "out_size",
    "whole_map",
    "window_attrs",
    "Conv",
    "Conv1D",
    "Conv3D",
    "DepthwiseConv",
    "DepthwiseConv1D",
    "DepthwiseConv3D",
    "MaxPool1D",
    "MaxPool3D",
    "AvgPool1D",
    "AvgPool3D",
    "FREE",
    "MAX_INTEGER",
    "MAX_RANK",
    "REGISTRY",
    "REQUIRED",
    "NEAR_ONE",
    "NEAR_ZERO",
    "POSITIVE",
    "Attr",
    "Init",
    "Layer",
    "Weight",
    "fan_in",
    "Sliding",
    "bias_ops",
    "bias_weight",
    "fmt_shape",
    "layer_class",
    "register",
    "resolve_pads",
    "spatial",
    "Input",
    "Conv2D",
    "DepthwiseConv2D",
    "Dense",
    "MaxPool",
    "AvgPool",
    "GlobalAvgPool",
    "GlobalMaxPool",
    "AdaptiveAvgPool",
    "Flatten",
    "Dropout",
    "ZeroPad",
    "ZeroPad1D",
    "ZeroPad2D",
    "ZeroPad3D",
    "BatchNorm",
    "Activation",
    "Softmax",
    "Add",
    "Concat",
    "Multiply",
    "ConvTranspose",
    "Conv1DTranspose",
    "Conv2DTranspose",
    "Conv3DTranspose",
    "Split",
    "ChannelShuffle",
    "Crop",
    "Crop1D",
    "Crop2D",
    "Crop3D",
    "GroupNorm",
    "InstanceNorm",
    "SimpleRNN",
    "LSTM",
    "GRU",
    "PixelShuffle",
    "LayerNorm",
    "RMSNorm",
    "Reshape",
    "Slice",
    "Select",
    "Embedding",
    "Parameter",
    "Attention",
    "MatMul",
    "Transpose",
    "Mean",
    "Upsample",
    "Upsample1D",
    "Upsample2D",
    "Upsample3D",
]
