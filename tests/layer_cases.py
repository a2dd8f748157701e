"""One table of layer cases: every registered type, its expected shape, params and MACs.

Expectations are written as products so each documents its own arithmetic. The
analyzer tests check them directly; the runner tests execute the same cases.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    id: str
    layer: dict
    input: tuple  # (H, W, C), (L, C), (D, H, W, C) or (C,); for multi-input layers, a list of shapes
    shape: tuple
    trainable: int = 0
    non_trainable: int = 0
    macs: int = 0
    tokens: int | None = None  # the first input holds integer token ids in [0, tokens)


CASES = [
    # conv2d: (H, W, M) -> (D_G, D_G, N), MACs = N x D_G^2 x D_K^2 x M
    Case(
        "conv2d-3x3-same",
        {"type": "conv2d", "filters": 16, "kernel": 3, "padding": "same"},
        (8, 8, 3),
        (8, 8, 16),
        3 * 3 * 3 * 16 + 16,
        0,
        16 * 8 * 8 * 3 * 3 * 3,
    ),
    Case(
        "conv2d-valid-nobias",
        {"type": "conv2d", "filters": 4, "kernel": 3, "bias": False},
        (7, 7, 2),
        (5, 5, 4),
        3 * 3 * 2 * 4,
        0,
        4 * 5 * 5 * 3 * 3 * 2,
    ),
    Case(
        "conv2d-stride2-same-odd",
        {"type": "conv2d", "filters": 8, "kernel": 3, "stride": 2, "padding": "same"},
        (7, 7, 3),
        (4, 4, 8),
        3 * 3 * 3 * 8 + 8,
        0,
        8 * 4 * 4 * 3 * 3 * 3,
    ),
    Case(
        "conv2d-7x7-s2-p3",
        {"type": "conv2d", "filters": 64, "kernel": 7, "stride": 2, "padding": 3, "bias": False},
        (224, 224, 3),
        (112, 112, 64),
        7 * 7 * 3 * 64,
        0,
        64 * 112 * 112 * 7 * 7 * 3,
    ),
    Case(
        "conv2d-11x11-s4-p2",
        {"type": "conv2d", "filters": 64, "kernel": 11, "stride": 4, "padding": 2},
        (224, 224, 3),
        (55, 55, 64),
        11 * 11 * 3 * 64 + 64,
        0,
        64 * 55 * 55 * 11 * 11 * 3,
    ),
    Case(
        "conv2d-rect-kernel",
        {"type": "conv2d", "filters": 5, "kernel": [1, 3], "padding": [0, 1]},
        (6, 6, 4),
        (6, 6, 5),
        1 * 3 * 4 * 5 + 5,
        0,
        5 * 6 * 6 * 1 * 3 * 4,
    ),
    Case(
        "conv2d-dilation2",
        {"type": "conv2d", "filters": 3, "kernel": 3, "dilation": 2},
        (9, 9, 2),
        (5, 5, 3),
        3 * 3 * 2 * 3 + 3,
        0,
        3 * 5 * 5 * 3 * 3 * 2,
    ),
    Case(
        "conv2d-dilation-same",
        {"type": "conv2d", "filters": 3, "kernel": 3, "dilation": 2, "padding": "same"},
        (9, 9, 2),
        (9, 9, 3),
        3 * 3 * 2 * 3 + 3,
        0,
        3 * 9 * 9 * 3 * 3 * 2,
    ),
    Case(
        "conv2d-groups4",
        {"type": "conv2d", "filters": 8, "kernel": 3, "groups": 4, "padding": 1},
        (6, 6, 8),
        (6, 6, 8),
        3 * 3 * (8 // 4) * 8 + 8,
        0,
        8 * 6 * 6 * 3 * 3 * (8 // 4),
    ),
    Case(
        "conv2d-asym-pad",
        {"type": "conv2d", "filters": 2, "kernel": 3, "stride": 2, "padding": [[0, 1], [1, 0]]},
        (8, 8, 3),
        (4, 4, 2),
        3 * 3 * 3 * 2 + 2,
        0,
        2 * 4 * 4 * 3 * 3 * 3,
    ),
    Case(
        "conv2d-pointwise",
        {"type": "conv2d", "filters": 64, "kernel": 1, "bias": False},
        (112, 112, 32),
        (112, 112, 64),
        32 * 64,
        0,
        64 * 112 * 112 * 32,
    ),
    # depthwise: (H, W, M) -> (D_G, D_G, M x mult), MACs = M x mult x D_G^2 x D_K^2
    Case(
        "depthwise-3x3",
        {"type": "depthwise_conv2d", "kernel": 3, "padding": "same", "bias": False},
        (112, 112, 32),
        (112, 112, 32),
        3 * 3 * 32,
        0,
        32 * 112 * 112 * 3 * 3,
    ),
    Case(
        "depthwise-mult2-s2",
        {"type": "depthwise_conv2d", "kernel": 3, "stride": 2, "multiplier": 2, "padding": 1},
        (8, 8, 3),
        (4, 4, 6),
        3 * 3 * 3 * 2 + 6,
        0,
        6 * 4 * 4 * 3 * 3,
    ),
    Case(
        "depthwise-dilated",
        {"type": "depthwise_conv2d", "kernel": 3, "dilation": 2},
        (9, 9, 4),
        (5, 5, 4),
        3 * 3 * 4 + 4,
        0,
        4 * 5 * 5 * 3 * 3,
    ),
    # conv1d: (L, M) -> (L_out, N), MACs = N x L_out x D_K x M
    Case(
        "conv1d-k3-same",
        {"type": "conv1d", "filters": 8, "kernel": 3, "padding": "same"},
        (10, 4),
        (10, 8),
        3 * 4 * 8 + 8,
        0,
        8 * 10 * 3 * 4,
    ),
    Case(
        "conv1d-k5-s2-d2-groups",
        {"type": "conv1d", "filters": 6, "kernel": 5, "stride": 2, "dilation": 2, "groups": 2, "bias": False},
        (21, 4),
        (7, 6),
        5 * (4 // 2) * 6,
        0,
        6 * 7 * 5 * (4 // 2),
    ),
    # conv3d: (D, H, W, M) -> (D', H', W', N), MACs = N x D' H' W' x k_d k_h k_w x M
    Case(
        "conv3d-3x3x3-same",
        {"type": "conv3d", "filters": 4, "kernel": 3, "padding": "same"},
        (4, 5, 6, 2),
        (4, 5, 6, 4),
        3 * 3 * 3 * 2 * 4 + 4,
        0,
        4 * 4 * 5 * 6 * 3 * 3 * 3 * 2,
    ),
    Case(
        "conv3d-1x3x3-s2-pad",
        {
            "type": "conv3d",
            "filters": 3,
            "kernel": [1, 3, 3],
            "stride": [1, 2, 2],
            "padding": [0, 1, [0, 1]],
            "bias": False,
        },
        (3, 7, 8, 2),
        (3, 4, 4, 3),
        1 * 3 * 3 * 2 * 3,
        0,
        3 * 3 * 4 * 4 * 1 * 3 * 3 * 2,
    ),
    # depthwise of rank 1 and 3: M x multiplier x positions x taps
    Case(
        "depthwise_conv1d-k7-mult2",
        {"type": "depthwise_conv1d", "kernel": 7, "multiplier": 2, "padding": 3},
        (12, 3),
        (12, 6),
        7 * 3 * 2 + 6,
        0,
        6 * 12 * 7,
    ),
    Case(
        "depthwise_conv3d-3x3x3-s2",
        {"type": "depthwise_conv3d", "kernel": 3, "stride": 2, "bias": False},
        (5, 7, 6, 4),
        (2, 3, 2, 4),
        3 * 3 * 3 * 4,
        0,
        4 * 2 * 3 * 2 * 3 * 3 * 3,
    ),
    # a window of 11 x 11 = 121 taps, above kernels.TAP_LOOP: the GEMM form
    Case(
        "depthwise-11x11-gemm",
        {"type": "depthwise_conv2d", "kernel": 11, "padding": 5, "multiplier": 2},
        (13, 12, 3),
        (13, 12, 6),
        11 * 11 * 3 * 2 + 6,
        0,
        6 * 13 * 12 * 11 * 11,
    ),
    # dense on the last axis: (..., C_in) -> (..., units)
    Case("dense", {"type": "dense", "units": 4096}, (25088,), (4096,), 25088 * 4096 + 4096, 0, 25088 * 4096),
    Case("dense-nobias", {"type": "dense", "units": 10, "bias": False}, (7,), (10,), 7 * 10, 0, 7 * 10),
    Case("dense-on-hwc", {"type": "dense", "units": 6}, (3, 3, 4), (3, 3, 6), 4 * 6 + 6, 0, 3 * 3 * 4 * 6),
    Case("max_pool-2x2", {"type": "max_pool", "pool": 2}, (224, 224, 64), (112, 112, 64)),
    Case(
        "max_pool-3x3-s2-p1", {"type": "max_pool", "pool": 3, "stride": 2, "padding": 1}, (112, 112, 64), (56, 56, 64)
    ),
    # floor((56 - 3) / 2) + 1 = 27 (ceil rounding would give 28)
    Case("max_pool-3x3-s2-floor", {"type": "max_pool", "pool": 3, "stride": 2}, (56, 56, 64), (27, 27, 64)),
    Case("avg_pool-same", {"type": "avg_pool", "pool": 3, "stride": 2, "padding": "same"}, (7, 7, 5), (4, 4, 5)),
    # PyTorch's ceil_mode: GoogLeNet's maxpool1 takes 112 to ceil((112 - 3) / 2) + 1 = 56 (floor: 55)
    Case(
        "max_pool-ceil_mode",
        {"type": "max_pool", "pool": 3, "stride": 2, "ceil_mode": True},
        (112, 112, 64),
        (56, 56, 64),
    ),
    # ceil gives 4 windows on 5 + 2 x 1 padding, but the fourth would start in the right padding: 3
    Case(
        "avg_pool-ceil-drops-window-in-padding",
        {"type": "avg_pool", "pool": 2, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": True},
        (5, 5, 2),
        (3, 3, 2),
    ),
    Case("max_pool1d-3-s2-p1", {"type": "max_pool1d", "pool": 3, "stride": 2, "padding": 1}, (11, 5), (6, 5)),
    Case("max_pool3d-2", {"type": "max_pool3d", "pool": 2}, (4, 6, 5, 3), (2, 3, 2, 3)),
    Case("avg_pool1d-same", {"type": "avg_pool1d", "pool": 4, "stride": 3, "padding": "same"}, (10, 2), (4, 2)),
    Case("avg_pool3d-2x3x3-s1", {"type": "avg_pool3d", "pool": [2, 3, 3], "stride": 1}, (3, 5, 4, 2), (2, 3, 2, 2)),
    # windows of 20 and 17 along an axis, above kernels.SMALL_WINDOW: running sums and doubling
    Case(
        "max_pool-20x17-large",
        {"type": "max_pool", "pool": [20, 17], "stride": [3, 1], "padding": [[0, 1], 2]},
        (25, 18, 2),
        ((25 + 1 - 20) // 3 + 1, (18 + 4 - 17) // 1 + 1, 2),
    ),
    Case(
        "avg_pool1d-large",
        {"type": "avg_pool1d", "pool": 33, "stride": 5, "padding": 4},
        (60, 3),
        ((60 + 8 - 33) // 5 + 1, 3),
    ),
    Case("global_avg_pool", {"type": "global_avg_pool"}, (7, 7, 2048), (2048,)),
    Case("global_max_pool", {"type": "global_max_pool"}, (5, 4, 3), (3,)),
    Case("global_avg_pool-1d", {"type": "global_avg_pool"}, (9, 4), (4,)),
    Case("global_max_pool-3d", {"type": "global_max_pool"}, (3, 4, 5, 2), (2,)),
    Case("adaptive_avg_pool-identity", {"type": "adaptive_avg_pool", "size": 6}, (6, 6, 256), (6, 6, 256)),
    Case("adaptive_avg_pool-uneven", {"type": "adaptive_avg_pool", "size": [3, 2]}, (7, 5, 2), (3, 2, 2)),
    Case("flatten", {"type": "flatten"}, (7, 7, 512), (7 * 7 * 512,)),
    Case("batch_norm", {"type": "batch_norm"}, (56, 56, 64), (56, 56, 64), 2 * 64, 2 * 64),
    # batch norm: gamma and beta trainable, moving mean and variance not (Keras, PyTorch's buffers)
    Case("batch_norm-noscale", {"type": "batch_norm", "scale": False}, (4, 4, 8), (4, 4, 8), 8, 2 * 8),
    Case("batch_norm-nocenter", {"type": "batch_norm", "center": False}, (4, 4, 8), (4, 4, 8), 8, 2 * 8),
    Case(
        "batch_norm-statistics-only", {"type": "batch_norm", "center": False, "scale": False}, (3, 5), (3, 5), 0, 2 * 5
    ),
    # Keras' Normalization: mean and variance per channel and the sample count, all non-trainable (3 + 3 + 1)
    Case("normalize", {"type": "normalize"}, (6, 6, 3), (6, 6, 3), 0, 3 + 3 + 1),
    Case("rescale", {"type": "rescale", "scale": 0.5, "offset": 1}, (4, 4, 3), (4, 4, 3)),
    Case("activation-relu", {"type": "activation", "fn": "relu"}, (4, 4, 3), (4, 4, 3)),
    Case("activation-relu6", {"type": "activation", "fn": "relu6"}, (4, 4, 3), (4, 4, 3)),
    Case("activation-leaky", {"type": "activation", "fn": "leaky_relu", "alpha": 0.1}, (5,), (5,)),
    Case("activation-hard_swish", {"type": "activation", "fn": "hard_swish"}, (2, 2, 3), (2, 2, 3)),
    Case("activation-gelu", {"type": "activation", "fn": "gelu"}, (6,), (6,)),
    Case("dropout", {"type": "dropout", "rate": 0.5}, (4096,), (4096,)),
    Case("zero_pad-asym", {"type": "zero_pad", "padding": [[0, 1], [0, 1]]}, (224, 224, 3), (225, 225, 3)),
    Case("zero_pad-sym", {"type": "zero_pad", "padding": 3}, (4, 5, 2), (10, 11, 2)),
    Case("zero_pad1d", {"type": "zero_pad1d", "padding": [[2, 1]]}, (5, 3), (8, 3)),
    Case("zero_pad3d", {"type": "zero_pad3d", "padding": [1, [0, 2], 0]}, (2, 3, 4, 2), (4, 5, 4, 2)),
    Case("add", {"type": "add"}, [(56, 56, 256), (56, 56, 256)], (56, 56, 256)),
    Case("add-3way", {"type": "add"}, [(4, 4, 2)] * 3, (4, 4, 2)),
    Case("concat-channels", {"type": "concat"}, [(28, 28, 64), (28, 28, 128)], (28, 28, 192)),
    Case("concat-axis0", {"type": "concat", "axis": 0}, [(2, 3, 4), (5, 3, 4)], (7, 3, 4)),
    Case("softmax", {"type": "softmax"}, (1000,), (1000,)),
    # transposed convolution: out = (in - 1) s - before - after + d (k - 1) + output_padding + 1; MACs are
    # every input position times every tap, in x out channels / groups (no inserted zeros multiplied)
    Case(
        "conv2d_transpose-dcgan-code",
        {"type": "conv2d_transpose", "filters": 512, "kernel": 4, "bias": False},
        (1, 1, 100),
        (4, 4, 512),
        4 * 4 * 100 * 512,
        0,
        1 * 1 * 4 * 4 * 100 * 512,
    ),
    Case(
        "conv2d_transpose-dcgan-s2-p1",
        {"type": "conv2d_transpose", "filters": 256, "kernel": 4, "stride": 2, "padding": 1, "bias": False},
        (4, 4, 512),
        (8, 8, 256),
        4 * 4 * 512 * 256,
        0,
        4 * 4 * 4 * 4 * 512 * 256,
    ),
    Case(
        "conv2d_transpose-same",
        {"type": "conv2d_transpose", "filters": 4, "kernel": 3, "stride": 2, "padding": "same"},
        (5, 5, 3),
        (10, 10, 4),
        3 * 3 * 3 * 4 + 4,
        0,
        5 * 5 * 3 * 3 * 3 * 4,
    ),
    Case(
        "conv2d_transpose-dilated",
        {"type": "conv2d_transpose", "filters": 3, "kernel": 3, "dilation": 2},
        (4, 4, 2),
        ((4 - 1) + 2 * 2 + 1, 8, 3),
        3 * 3 * 2 * 3 + 3,
        0,
        4 * 4 * 3 * 3 * 2 * 3,
    ),
    Case(
        "conv1d_transpose-output_padding",
        {"type": "conv1d_transpose", "filters": 2, "kernel": 3, "stride": 2, "padding": 1, "output_padding": 1},
        (7, 3),
        ((7 - 1) * 2 - 2 + 3 + 1, 2),
        3 * 3 * 2 + 2,
        0,
        7 * 3 * 3 * 2,
    ),
    Case(
        "conv3d_transpose-groups",
        {"type": "conv3d_transpose", "filters": 6, "kernel": 2, "stride": 2, "groups": 2},
        (2, 3, 3, 4),
        (4, 6, 6, 6),
        2 * 2 * 2 * 4 * (6 // 2) + 6,
        0,
        2 * 3 * 3 * 2 * 2 * 2 * 4 * 6 // 2,
    ),
    Case("activation-silu", {"type": "activation", "fn": "silu"}, (2, 2, 3), (2, 2, 3)),
    # multiply broadcasts like NumPy: squeeze-and-excitation scales each channel of the map
    Case("multiply-se", {"type": "multiply"}, [(7, 7, 32), (1, 1, 32)], (7, 7, 32)),
    Case("multiply-vector", {"type": "multiply"}, [(4, 4, 3), (3,)], (4, 4, 3)),
    Case("multiply-3way", {"type": "multiply"}, [(5, 2)] * 3, (5, 2)),
    # add, subtract and divide broadcast the same way: a per-channel shift, a mean over the last axis
    Case("add-broadcast", {"type": "add"}, [(4, 4, 3), (1, 1, 3)], (4, 4, 3)),
    Case("subtract-mean", {"type": "subtract"}, [(6, 8), (6, 1)], (6, 8)),
    Case("divide-vector", {"type": "divide"}, [(4, 4, 3), (3,)], (4, 4, 3)),
    # split passes one part on; ShuffleNet halves the channels
    Case("split-parts", {"type": "split", "parts": 2, "index": 1}, (28, 28, 116), (28, 28, 58)),
    Case("split-sizes-axis0", {"type": "split", "sizes": [3, 5], "index": 1, "axis": 0}, (8, 4), (5, 4)),
    Case("channel_shuffle", {"type": "channel_shuffle", "groups": 2}, (28, 28, 116), (28, 28, 116)),
    Case("crop-amounts", {"type": "crop", "cropping": [[1, 2], [0, 3]]}, (8, 9, 2), (5, 6, 2)),
    # U-Net: the skip map cropped at its centre to the up-convolution's size
    Case("crop-to-second-input", {"type": "crop"}, [(64, 64, 512), (56, 56, 512)], (56, 56, 512)),
    Case("crop1d-amounts", {"type": "crop1d", "cropping": [[2, 1]]}, (9, 3), (6, 3)),
    Case("crop3d-to-second-input", {"type": "crop3d"}, [(6, 8, 8, 2), (4, 5, 8, 2)], (4, 5, 8, 2)),
    Case("pixel_shuffle", {"type": "pixel_shuffle", "factor": 3}, (4, 4, 18), (12, 12, 2)),
    # upsampling: PyTorch's sizes, floor(size x scale) or the size given; no weights, no MACs
    Case("upsample-bilinear-scale", {"type": "upsample", "scale": 2, "mode": "bilinear"}, (4, 4, 3), (8, 8, 3)),
    Case(
        "upsample-bilinear-fractional-scale",
        {"type": "upsample", "scale": 2.5, "mode": "bilinear"},
        (5, 3, 2),
        (12, 7, 2),
    ),
    Case(
        "upsample1d-linear-size-align",
        {"type": "upsample1d", "size": 11, "mode": "linear", "align_corners": True},
        (5, 2),
        (11, 2),
    ),
    Case(
        "upsample3d-trilinear",
        {"type": "upsample3d", "scale": [1, 2, 2], "mode": "trilinear"},
        (2, 3, 3, 2),
        (2, 6, 6, 2),
    ),
    # group and instance norm: gamma and beta per channel when affine, no running statistics
    Case("group_norm", {"type": "group_norm", "groups": 4}, (8, 8, 16), (8, 8, 16), 2 * 16),
    Case("instance_norm", {"type": "instance_norm"}, (8, 8, 16), (8, 8, 16)),
    Case("instance_norm-affine", {"type": "instance_norm", "affine": True}, (5, 3), (5, 3), 2 * 3),
    # recurrent: per direction g gates x (D x H kernel + H x H recurrent + biases x H); MACs T x g x H x (D + H)
    Case(
        "simple_rnn", {"type": "simple_rnn", "units": 16}, (10, 8), (16,), 8 * 16 + 16 * 16 + 16, 0, 10 * 16 * (8 + 16)
    ),
    # Keras' IMDB example: LSTM(128) on 80 steps of 128 features, 131,584 parameters in its summary
    Case(
        "lstm-keras",
        {"type": "lstm", "units": 128},
        (80, 128),
        (128,),
        4 * (128 * 128 + 128 * 128 + 128),
        0,
        80 * 4 * 128 * (128 + 128),
    ),
    Case(
        "lstm-pytorch-bidirectional-sequences",
        {"type": "lstm", "units": 4, "biases": 2, "bidirectional": True, "return_sequences": True},
        (5, 3),
        (5, 8),
        2 * 4 * (3 * 4 + 4 * 4 + 2 * 4),
        0,
        2 * 5 * 4 * 4 * (3 + 4),
    ),
    Case(
        "gru-reset-after",
        {"type": "gru", "units": 3},
        (6, 5),
        (3,),
        3 * (5 * 3 + 3 * 3 + 2 * 3),
        0,
        6 * 3 * 3 * (5 + 3),
    ),
    Case(
        "gru-reset-before",
        {"type": "gru", "units": 3, "biases": 1, "reset_after": False},
        (6, 5),
        (3,),
        3 * (5 * 3 + 3 * 3 + 3),
        0,
        6 * 3 * 3 * (5 + 3),
    ),
    # sequences (L, D): norms learn gamma (and beta) per normalised element
    Case("layer_norm", {"type": "layer_norm"}, (197, 768), (197, 768), 2 * 768),
    Case(
        "layer_norm-2-axes-no-affine",
        {"type": "layer_norm", "axes": 2, "scale": False, "center": False},
        (4, 5, 6),
        (4, 5, 6),
    ),
    Case("rms_norm", {"type": "rms_norm"}, (7, 64), (7, 64), 64),
    Case("activation-gelu_tanh", {"type": "activation", "fn": "gelu_tanh"}, (4, 6), (4, 6)),
    # a lookup: vocab x dim parameters, no MACs
    Case("embedding", {"type": "embedding", "vocab": 1000, "dim": 64}, (128,), (128, 64), 1000 * 64, tokens=1000),
    Case("embedding-smaller-ids", {"type": "embedding", "vocab": 50, "dim": 3}, (2, 5), (2, 5, 3), 50 * 3, tokens=7),
    Case("parameter", {"type": "parameter", "shape": [1, 768]}, (3,), (1, 768), 1 * 768),
    # a fixed tensor (GPT-2's causal mask over 1 x 6 x 6 scores): counted, but not trainable
    Case("parameter-fixed", {"type": "parameter", "shape": [1, 6, 6], "trainable": False}, (3,), (1, 6, 6), 0, 6 * 6),
    Case("reshape", {"type": "reshape", "shape": [196, 768]}, (14, 14, 768), (196, 768)),
    Case("reshape-inferred", {"type": "reshape", "shape": [-1, 12, 64]}, (197, 768), (197, 12, 64)),
    Case("transpose-heads", {"type": "transpose", "axes": [1, 0, 2]}, (197, 12, 64), (12, 197, 64)),
    Case("transpose-negative", {"type": "transpose", "axes": [-1, 0]}, (5, 3), (3, 5)),
    Case("mean-tokens", {"type": "mean", "axes": 0}, (197, 768), (768,)),
    Case("mean-keepdims", {"type": "mean", "axes": [0, 1], "keepdims": True}, (7, 7, 8), (1, 1, 8)),
    Case("slice", {"type": "slice", "stop": 128}, (512, 768), (128, 768)),
    Case("slice-negative-step", {"type": "slice", "start": -6, "step": 2}, (10, 4), (3, 4)),
    Case("slice-last-axis", {"type": "slice", "axis": -1, "start": 1, "stop": 3}, (5, 4), (5, 2)),
    Case("select-first-token", {"type": "select"}, (197, 768), (768,)),
    Case("select-last-axis", {"type": "select", "axis": -1, "index": -1}, (3, 4, 5), (3, 4)),
    # matmul: (..., m, k) x (..., k, n), batch x m x k x n MACs
    Case("matmul", {"type": "matmul"}, [(2, 5, 3), (2, 3, 4)], (2, 5, 4), 0, 0, 2 * 5 * 3 * 4),
    Case(
        "matmul-transpose_b",
        {"type": "matmul", "transpose_b": True},
        [(3, 5, 8), (3, 7, 8)],
        (3, 5, 7),
        0,
        0,
        3 * 5 * 8 * 7,
    ),
    Case("matmul-transpose_a", {"type": "matmul", "transpose_a": True}, [(6, 2), (6, 3)], (2, 3), 0, 0, 2 * 6 * 3),
    # attention: projections + QK^T + AV; heads x head_dim = width unless head_dim is given
    Case(
        "attention-vit",
        {"type": "attention", "heads": 12},
        (197, 768),
        (197, 768),
        768 * 3 * 768 + 3 * 768 + 768 * 768 + 768,
        0,
        197 * 768 * 3 * 768 + 2 * 12 * 197 * 197 * 64 + 197 * 768 * 768,
    ),
    Case(
        "attention-gqa-causal-rotary",
        {"type": "attention", "heads": 8, "kv_heads": 2, "bias": False, "causal": True, "rotary": True},
        (16, 64),
        (16, 64),
        64 * (8 + 2 * 2) * 8 + 8 * 8 * 64,
        0,
        16 * 64 * (8 + 2 * 2) * 8 + 2 * 8 * 16 * 16 * 8 + 16 * 8 * 8 * 64,
    ),
    Case(
        "attention-decode-step",
        {"type": "attention", "heads": 4, "kv_heads": 1, "causal": True, "cache": 9},
        (1, 64),
        (1, 64),
        64 * (4 + 2 * 1) * 16 + (4 + 2 * 1) * 16 + 4 * 16 * 64 + 64,
        0,
        1 * 64 * (4 + 2 * 1) * 16 + 2 * 4 * 1 * (9 + 1) * 16 + 1 * 4 * 16 * 64,
    ),
    Case(
        "attention-cross",
        {"type": "attention", "heads": 4, "head_dim": 6, "units": 10},
        [(5, 32), (9, 48)],
        (5, 10),
        32 * 4 * 6 + 4 * 6 + 48 * 2 * 4 * 6 + 2 * 4 * 6 + 4 * 6 * 10 + 10,
        0,
        5 * 32 * 4 * 6 + 9 * 48 * 2 * 4 * 6 + 2 * 4 * 5 * 9 * 6 + 5 * 4 * 6 * 10,
    ),
]


def case_spec(case: Case) -> dict:
    """A spec with one input layer per input shape feeding the case's layer."""
    shapes = case.input if isinstance(case.input, list) else [case.input]
    layers = [{"type": "input", "shape": list(s), "name": f"x{i}"} for i, s in enumerate(shapes)]
    if case.tokens is not None:
        layers[0]["tokens"] = case.tokens
    # one input follows by default, so a layer that takes none (a parameter) can ignore it
    layer = (
        dict(case.layer, name="layer")
        if len(shapes) == 1
        else dict(case.layer, name="layer", inputs=[f"x{i}" for i in range(len(shapes))])
    )
    return {"name": case.id, "layers": layers + [layer]}
