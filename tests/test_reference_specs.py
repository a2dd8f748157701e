"""The bundled reference specs against exact figures that flopcount did not produce.

Every bundled spec's three totals (trainable parameters, non-trainable parameters, MACs)
are compared with an independent source:

* torchvision's models: ``torchvision-exact.json`` in the team's shared reference folder
  (``shared/reference/`` beside the repository's checkout). Its ``about`` field states its
  provenance: torchvision 0.29.1 models built with ``weights=None`` in eval mode at batch 1,
  counted with PyTorch alone (``numel()`` of the parameters that require grad; elements of the
  batch-norm ``running_mean`` and ``running_var`` buffers; conv + linear multiply-accumulates,
  equal to ``torch.utils.flop_counter.FlopCounterMode``'s total / 2). Those are our
  ``trainable``, ``non_trainable`` and ``macs``. The file is required: without it these tests
  fail (they never skip), since nothing else pins the exact MACs.
* MobileNet v1 (not in torchvision): Keras' ``MobileNet().summary()`` for the parameters, and
  the MACs summed from the MobileNet paper's Table 1 layer by layer below, which must round
  to the paper's published mult-adds (Tables 2, 6, 7: millions, rounded to the nearest one).

Where a source publishes only a rounded figure (torchvision's "GFLOPS" in its weight docs,
two decimals), the exact reference is checked against it at the published precision, so a
wrong reference file cannot pass unnoticed either.
"""

import json
import os
from fractions import Fraction
from pathlib import Path

import pytest

from flopcount import analyze
from flopcount.spec import bundled_dir

REFERENCE_NAME = "torchvision-exact.json"


def shared_candidates() -> list[Path]:
    """Where the shared reference folder may be: $FLOPCOUNT_SHARED, beside this checkout, beside the main checkout."""
    root = Path(__file__).resolve().parent.parent
    found = [Path(os.environ["FLOPCOUNT_SHARED"])] if os.environ.get("FLOPCOUNT_SHARED") else []
    found.append(root.parent / "shared")
    git = root / ".git"
    if git.is_file() and git.read_text().startswith("gitdir:"):
        # a linked worktree: .git names <main checkout>/.git/worktrees/<name>
        gitdir = Path(git.read_text().split(":", 1)[1].strip())
        found.append(gitdir.parents[2].parent / "shared")
    return found


@pytest.fixture(scope="module")
def torchvision_exact() -> dict:
    """The "models" of shared/reference/torchvision-exact.json; fails (never skips) when it is absent."""
    paths = [p / "reference" / REFERENCE_NAME for p in shared_candidates()]
    for path in paths:
        if path.is_file():
            doc = json.loads(path.read_text())
            # the provenance these tests rely on, as the file states it
            assert "independently of flopcount" in doc["about"] and "weights=None" in doc["about"]
            return doc["models"]
    pytest.fail(
        f"{REFERENCE_NAME} not found (looked in {', '.join(map(str, paths))}); the reference tests need "
        "shared/reference/ beside the checkout, or FLOPCOUNT_SHARED naming the shared folder",
        pytrace=False,
    )


# torchvision's weight metadata per model (torchvision/models/*.py, IMAGENET1K_V1): "num_params" exact,
# "_ops" in GFLOPS (conv + linear multiply-adds / 10^9) rounded to three decimals (VGG16's to two: 15.47)
TORCHVISION_META = {
    "alexnet": (61_100_840, 0.714),
    "vgg16": (138_357_544, 15.47),
    "vgg19": (143_667_240, 19.632),
    "resnet18": (11_689_512, 1.814),
    "resnet34": (21_797_672, 3.664),
    "resnet50": (25_557_032, 4.089),
    "googlenet": (6_624_904, 1.498),
    "mobilenet_v2": (3_504_872, 0.301),
    "mobilenet_v3_large": (5_483_032, 0.217),
    "efficientnet_b0": (5_288_548, 0.386),
    "shufflenet_v2_x1_0": (2_278_604, 0.145),
}

# VGG16 conv weights per stage: 3x3 kernels, input channels of each conv summed (paper's Table 1, column D)
VGG16_MACS = (
    224 * 224 * 64 * 3 * 3 * (3 + 64)
    + 112 * 112 * 128 * 3 * 3 * (64 + 128)
    + 56 * 56 * 256 * 3 * 3 * (128 + 256 + 256)
    + 28 * 28 * 512 * 3 * 3 * (256 + 512 + 512)
    + 14 * 14 * 512 * 3 * 3 * (512 + 512 + 512)
    + 7 * 7 * 512 * 4096
    + 4096 * 4096
    + 4096 * 1000
)

# MobileNet paper's Table 1 after conv1: (stride, pointwise filters) of the 13 depthwise separable blocks
# (block 13 at stride 1: the table's "s2" there is a misprint, the map stays 7x7, as Keras builds it)
MOBILENET_BLOCKS = [(1, 64), (2, 128), (1, 128), (2, 256), (1, 256), (2, 512)] + [(1, 512)] * 5 + [(2, 1024), (1, 1024)]


def mobilenet_v1_figures(alpha=Fraction(1), resolution=224, classes=1000) -> tuple[int, int, int]:
    """(trainable, non-trainable, MACs) of Keras' MobileNet(alpha, resolution), walked from Table 1.

    Keras' choices: int(filters x alpha) channels, no conv bias, a batch norm (gamma, beta
    trainable; moving mean and variance not) after every conv, conv1 'same' at stride 2,
    stride-2 depthwise 'valid' after one row and column of padding, a biased 1x1 classifier.
    """
    channels = int(32 * alpha)
    size = -(-resolution // 2)
    trainable = 3 * 3 * 3 * channels + 2 * channels
    statistics = 2 * channels
    macs = size * size * 3 * 3 * 3 * channels
    for stride, filters in MOBILENET_BLOCKS:
        if stride == 2:
            size = (size + 1 - 3) // 2 + 1
        out = int(filters * alpha)
        trainable += 3 * 3 * channels + 2 * channels + channels * out + 2 * out
        statistics += 2 * channels + 2 * out
        macs += size * size * 3 * 3 * channels + size * size * channels * out
        channels = out
    trainable += channels * classes + classes
    macs += channels * classes
    return trainable, statistics, macs


def test_vgg16_product_form_is_the_reference_figure(torchvision_exact):
    assert VGG16_MACS == torchvision_exact["vgg16"]["macs_conv_linear"] == 15_470_264_320


@pytest.mark.parametrize("model", sorted(TORCHVISION_META))
def test_reference_file_agrees_with_torchvision_metadata(torchvision_exact, model):
    num_params, gflops = TORCHVISION_META[model]
    assert torchvision_exact[model]["params_trainable"] == num_params
    assert round(torchvision_exact[model]["macs_conv_linear"] / 10**9, 3) == gflops


def test_mobilenet_v1_walk_matches_keras_and_the_paper():
    # Keras MobileNet(weights=None).summary(): Trainable params 4,231,976, Non-trainable params 21,888
    trainable, statistics, macs = mobilenet_v1_figures()
    assert (trainable, statistics) == (4_231_976, 21_888)
    assert round(macs / 10**6) == 569  # Howard et al. 2017, Table 2: 569 million mult-adds


# Howard et al. 2017: (setting, published mult-adds in millions, exact total parameters or None)
MOBILENET_SETTINGS = [
    pytest.param({}, 569, 4_253_864, id="mobilenet_v1"),  # Table 2; Keras summary: Total params 4,253,864
    # Table 6 mult-adds; MXNet Gluon model zoo table: mobilenet0.75, 0.5, 0.25 parameters (BN statistics counted)
    pytest.param({"alpha": "0.75"}, 325, 2_601_976, id="mobilenet_v1-alpha=0.75"),
    pytest.param({"alpha": "0.5"}, 149, 1_342_536, id="mobilenet_v1-alpha=0.5"),
    pytest.param({"alpha": "0.25"}, 41, 475_544, id="mobilenet_v1-alpha=0.25"),
    # Table 7: the same 4.2 million parameters at every resolution (global pooling)
    pytest.param({"resolution": "192"}, 418, 4_253_864, id="mobilenet_v1-resolution=192"),
    pytest.param({"resolution": "128"}, 186, 4_253_864, id="mobilenet_v1-resolution=128"),
]


@pytest.mark.parametrize("setting, millions, total", MOBILENET_SETTINGS)
def test_mobilenet_v1_settings(setting, millions, total):
    alpha = Fraction(setting.get("alpha", 1))
    trainable, statistics, macs = mobilenet_v1_figures(alpha, int(setting.get("resolution", 224)))
    assert trainable + statistics == total
    assert round(macs / 10**6) == millions
    totals = analyze("mobilenet_v1", setting).totals
    assert (totals.trainable, totals.non_trainable, totals.macs) == (trainable, statistics, macs)


def test_dcgan_generator_matches_the_pytorch_example():
    # PyTorch examples dcgan/main.py, Generator(nz=100, ngf=64, nc=3): sum of p.numel() = 3,576,704, the five
    # transposed-convolution kernels (in x out x 4 x 4, no bias) and the four batch norms' weight and bias
    totals = analyze("dcgan_generator").totals
    assert (
        totals.trainable
        == 3_576_704
        == 16 * (100 * 512 + 512 * 256 + 256 * 128 + 128 * 64 + 64 * 3) + 2 * (512 + 256 + 128 + 64)
    )
    # the batch norms' running mean and variance
    assert totals.non_trainable == 2 * (512 + 256 + 128 + 64)
    # a transposed convolution multiplies every input position by every tap: positions x 16 x in x out
    assert (
        totals.macs
        == 104_628_224
        == (
            1 * 16 * 100 * 512
            + 4 * 4 * 16 * 512 * 256
            + 8 * 8 * 16 * 256 * 128
            + 16 * 16 * 16 * 128 * 64
            + 32 * 32 * 16 * 64 * 3
        )
    )


def test_imdb_lstm_matches_the_keras_example():
    # Keras examples imdb_lstm.py, model.summary(): embedding 2,560,000, lstm 131,584, dense 129; Total params 2,691,713
    totals = analyze("imdb_lstm").totals
    assert (totals.trainable, totals.non_trainable) == (2_691_713, 0)
    assert totals.params == 20000 * 128 + 4 * (128 * 128 + 128 * 128 + 128) + (128 + 1)
    # 80 steps x 4 gates x 128 units x (128 inputs + 128 state), then the dense layer; the lookup costs nothing
    assert totals.macs == 80 * 4 * 128 * (128 + 128) + 128 * 1


def unet_figures(side=572, channels=1, classes=2):
    """Parameters, MACs and output side of the 2015 U-Net (Ronneberger et al., Figure 1), by its own arithmetic.

    3x3 'valid' convolutions with bias lose 2 positions per side; 2x2 max pools halve; 2x2 up-convolutions
    (stride 2, bias) double the side and halve the channels, costing input positions x 4 taps x in x out.
    """
    params = macs = 0

    def conv(s, c_in, c_out, k=3):
        nonlocal params, macs
        out = s - k + 1
        params += k * k * c_in * c_out + c_out
        macs += out * out * k * k * c_in * c_out
        return out

    s, c = side, channels
    for i, width in enumerate((64, 128, 256, 512, 1024)):
        if i:
            s //= 2
        s = conv(conv(s, c, width), width, width)
        c = width
    for width in (512, 256, 128, 64):
        params += 2 * 2 * c * width + width
        macs += s * s * 2 * 2 * c * width
        s = conv(conv(2 * s, 2 * width, width), width, width)
        c = width
    s = conv(s, c, classes, k=1)
    return params, macs, s


def test_unet_matches_the_paper_by_formula():
    graph = analyze("unet")
    params, macs, side = unet_figures()
    # Figure 1: a 572 x 572 tile in, a 388 x 388 map of 2 classes out
    assert side == 388 and graph.nodes[-1].shape == (388, 388, 2)
    assert (graph.totals.trainable, graph.totals.non_trainable, graph.totals.macs) == (params, 0, macs)
    assert params == 31_030_658
    # a smaller tile, 16 m + 124, keeps every pooled side even
    small = analyze("unet", {"resolution": "188"})
    assert (small.totals.params, small.totals.macs, small.nodes[-1].shape[0]) == unet_figures(188)


BUNDLED = sorted(p.stem for p in bundled_dir().glob("*.json"))
# ---------------------------------------------------------------- transformers
# Each network's parameters and MACs written out from its definition, layer by layer, checked
# against the figure its source publishes; then the bundled spec must give exactly these.
# Attention MACs: the Q, K, V and output projections plus QK^T and AV, heads x L_q x L_k x head_dim
# each, in full (a causal mask hides the later keys' scores but a dense kernel still computes them).


def vit_b_16_figures(patches=196, width=768, depth=12, mlp=3072, classes=1000):
    """torchvision's VisionTransformer: conv_proj, class token, position embedding, encoder layers, ln, heads."""
    tokens = patches + 1
    layer_params = (
        2 * width  # ln_1
        + width * 3 * width
        + 3 * width  # self_attention in_proj (q, k, v)
        + width * width
        + width  # out_proj
        + 2 * width  # ln_2
        + width * mlp
        + mlp
        + mlp * width
        + width  # mlp
    )
    params = (
        (16 * 16 * 3 * width + width)
        + width
        + tokens * width
        + depth * layer_params
        + 2 * width
        + (width * classes + classes)
    )
    layer_macs = (
        tokens * width * 3 * width + 2 * tokens * tokens * width + tokens * width * width + 2 * tokens * width * mlp
    )
    # the head reads the class token only
    macs = patches * width * 16 * 16 * 3 + depth * layer_macs + width * classes
    return params, macs


def convnext_tiny_figures(classes=1000):
    """torchvision's ConvNeXt with CNBlockConfig (96, 192, 3), (192, 384, 3), (384, 768, 9), (768, None, 3)."""
    stages = [(56, 96, 3), (28, 192, 3), (14, 384, 9), (7, 768, 3)]
    params = 4 * 4 * 3 * 96 + 96 + 2 * 96  # stem conv and its LayerNorm2d
    macs = 56 * 56 * 96 * 4 * 4 * 3
    for i, (size, dim, blocks) in enumerate(stages):
        # CNBlock: 7x7 depthwise (bias), LayerNorm, Linear dim -> 4 dim, GELU, Linear 4 dim -> dim, layer scale
        params += blocks * ((7 * 7 * dim + dim) + 2 * dim + (dim * 4 * dim + 4 * dim) + (4 * dim * dim + dim) + dim)
        macs += blocks * size * size * (7 * 7 * dim + 2 * dim * 4 * dim)
        if i < 3:  # downsampling: LayerNorm2d and a 2x2 stride-2 conv to 2 dim
            params += 2 * dim + 2 * 2 * dim * 2 * dim + 2 * dim
            macs += (size // 2) ** 2 * 2 * dim * 2 * 2 * dim
    params += 2 * 768 + 768 * classes + classes  # classifier: LayerNorm2d, Linear
    macs += 768 * classes
    return params, macs


def bert_figures(seq=128, vocab=30522, width=768, depth=12, ffn=3072, positions=512, types=2):
    """Hugging Face BertModel: embeddings, encoder layers, pooler on the first token."""
    embeddings = vocab * width + positions * width + types * width + 2 * width
    layer_params = (
        3 * (width * width + width)
        + (width * width + width)
        + 2 * width
        + (width * ffn + ffn)
        + (ffn * width + width)
        + 2 * width
    )
    params = embeddings + depth * layer_params + width * width + width
    layer_macs = seq * width * 3 * width + 2 * seq * seq * width + seq * width * width + 2 * seq * width * ffn
    return params, depth * layer_macs + width * width


def gpt2_figures(context=1024, vocab=50257, width=768, depth=12, positions=1024, head=True):
    """Hugging Face GPT2LMHeadModel: wte, wpe, blocks, ln_f; the head is wte transposed (tied, no new parameters)."""
    layer_params = 2 * width + (width * 3 * width + 3 * width) + (width * width + width) + 2 * width
    layer_params += (width * 4 * width + 4 * width) + (4 * width * width + width)
    params = vocab * width + positions * width + depth * layer_params + 2 * width
    layer_macs = context * width * 3 * width + 2 * context * context * width + context * width * width
    layer_macs += 2 * context * width * 4 * width
    return params, depth * layer_macs + (context * width * vocab if head else 0)


def llama2_7b_figures(seq=1, cache=0, vocab=32000, width=4096, depth=32, heads=32, kv_heads=32, ffn=11008):
    """Hugging Face LlamaForCausalLM: seq new tokens against cache earlier positions' keys and values."""
    head_dim = width // heads
    kv = kv_heads * head_dim
    layer_params = (
        width * width + 2 * width * kv + width * width + 3 * width * ffn + 2 * width
    )  # q, k, v, o, mlp, norms
    params = vocab * width + depth * layer_params + width + width * vocab  # untied head
    keys = cache + seq
    layer_macs = seq * width * (width + 2 * kv) + 2 * heads * seq * keys * head_dim + seq * width * width
    layer_macs += 3 * seq * width * ffn
    return params, depth * layer_macs + seq * width * vocab


def test_vit_b_16_by_its_definition():
    params, macs = vit_b_16_figures()
    # torchvision ViT_B_16_Weights.IMAGENET1K_V1 (torchvision/models/vision_transformer.py): num_params 86567656,
    # "_ops": 17.564 GFLOPS, which counts the attention layers whole: projections, QK^T and AV
    assert params == 86_567_656
    assert round(macs / 10**9, 3) == 17.564 and macs == 17_563_828_224
    # PyTorch's FlopCounterMode misses nn.MultiheadAttention's fused path and reports 11.27 G: all but attention
    attention = 197 * 768 * 3 * 768 + 2 * 197 * 197 * 768 + 197 * 768 * 768
    assert round((macs - 12 * attention) / 10**9, 2) == 11.27
    totals = analyze("vit_b_16").totals
    assert (totals.trainable, totals.non_trainable, totals.macs) == (params, 0, macs)


def test_convnext_tiny_by_its_definition():
    params, macs = convnext_tiny_figures()
    # torchvision ConvNeXt_Tiny_Weights.IMAGENET1K_V1 (torchvision/models/convnext.py): num_params 28589128,
    # "_ops": 4.456 GFLOPS
    assert params == 28_589_128
    assert round(macs / 10**9, 3) == 4.456 and macs == 4_455_531_264
    totals = analyze("convnext_tiny").totals
    assert (totals.trainable, totals.non_trainable, totals.macs) == (params, 0, macs)


@pytest.mark.parametrize("seq", [128, 512, 7])
def test_bert_base_by_its_definition(seq):
    params, macs = bert_figures(seq)
    # Hugging Face BertModel.from_pretrained("bert-base-uncased").num_parameters(): 109,482,240
    assert params == 109_482_240
    if seq == 128:
        assert macs == 11_174_215_680
    totals = analyze("bert_base", {"seq": str(seq)}).totals
    assert (totals.trainable, totals.non_trainable, totals.macs) == (params, 0, macs)


@pytest.mark.parametrize("context, head", [(1024, True), (1024, False), (100, True)])
def test_gpt2_by_its_definition(context, head):
    params, macs = gpt2_figures(context, head=head)
    # Hugging Face GPT2Model / GPT2LMHeadModel.from_pretrained("gpt2").num_parameters(): 124,439,808 both
    # (the head is tied to wte)
    assert params == 124_439_808
    if context == 1024:
        assert macs == (145_824_153_600 if head else 106_300_440_576)
    totals = analyze("gpt2", {"context": str(context), "lm_head": str(head).lower()}).totals
    assert (totals.trainable, totals.non_trainable, totals.macs) == (params, 0, macs)


@pytest.mark.parametrize(
    "setting",
    [{}, {"cache": "4095"}, {"seq": "4096"}, {"seq": "16", "cache": "100"}, {"kv_heads": "8", "cache": "511"}],
    ids=["one-token", "decode-at-4095", "prompt-4096", "chunk", "grouped-query"],
)
def test_llama2_7b_by_its_configuration(setting):
    params, macs = llama2_7b_figures(**{k: int(v) for k, v in setting.items()})
    if "kv_heads" not in setting:
        # Meta's Llama 2 7B (meta-llama/Llama-2-7b-hf): 6,738,415,616 parameters
        assert params == 6_738_415_616
    totals = analyze("llama2_7b", setting).totals
    assert (totals.trainable, totals.non_trainable, totals.macs) == (params, 0, macs)


TRANSFORMERS = {
    "vit_b_16": test_vit_b_16_by_its_definition,
    "convnext_tiny": test_convnext_tiny_by_its_definition,
    "bert_base": test_bert_base_by_its_definition,
    "gpt2": test_gpt2_by_its_definition,
    "llama2_7b": test_llama2_7b_by_its_configuration,
}
# specs checked against other sources, and where
OTHER_SOURCES = {
    "mobilenet_v1": test_mobilenet_v1_settings,
    "dcgan_generator": test_dcgan_generator_matches_the_pytorch_example,
    "unet": test_unet_matches_the_paper_by_formula,
    "imdb_lstm": test_imdb_lstm_matches_the_keras_example,
    **TRANSFORMERS,
}


@pytest.mark.parametrize("spec", [s for s in BUNDLED if s not in OTHER_SOURCES])
def test_bundled_spec_totals_match_independent_figures(torchvision_exact, spec):
    assert spec in torchvision_exact, (
        f"bundled spec {spec!r} has no independent reference figures: add them to this file "
        f"(from {REFERENCE_NAME}, a paper's table or a framework's summary)"
    )
    ref = torchvision_exact[spec]
    totals = analyze(spec).totals
    assert totals.trainable == ref["params_trainable"]
    assert totals.non_trainable == ref["bn_running_stats"]
    assert totals.macs == ref["macs_conv_linear"]


# (spec, layer, output shape, params): shapes from the papers' tables, params as weight-array products
LAYERS = [
    # CS231n notes, "VGGNet in detail": CONV3-64 [224x224x64], weights (3*3*3)*64; torchvision adds a bias
    pytest.param("vgg16", "conv1_1/conv", (224, 224, 64), 3 * 3 * 3 * 64 + 64, id="vgg16-conv1_1"),
    pytest.param("vgg16", "pool5", (7, 7, 512), 0, id="vgg16-pool5"),
    # CS231n notes: FC [1x1x4096], weights 7*7*512*4096 = 102,760,448
    pytest.param("vgg16", "fc6", (4096,), 25088 * 4096 + 4096, id="vgg16-fc6"),
    pytest.param("vgg19", "conv5_4/conv", (14, 14, 512), 3 * 3 * 512 * 512 + 512, id="vgg19-conv5_4"),
    # torchvision AlexNet: 11x11 stride 4 padding 2 takes 224 to 55; pool5 gives 6x6x256 = 9216 features
    pytest.param("alexnet", "conv1", (55, 55, 64), 11 * 11 * 3 * 64 + 64, id="alexnet-conv1"),
    pytest.param("alexnet", "pool5", (6, 6, 256), 0, id="alexnet-pool5"),
    pytest.param("alexnet", "fc6", (4096,), 9216 * 4096 + 4096, id="alexnet-fc6"),
    # He et al., Table 1: conv2_x at 56x56, conv5_x at 7x7; 64 gamma/beta + 64 running statistics per BN
    pytest.param("resnet18", "conv2_x/block_2/bn2", (56, 56, 64), 4 * 64, id="resnet18-conv2_x-bn"),
    pytest.param("resnet18", "conv5_x/block_2/relu2", (7, 7, 512), 0, id="resnet18-conv5_x-out"),
    pytest.param("resnet34", "conv4_x/block_6/conv2", (14, 14, 256), 3 * 3 * 256 * 256, id="resnet34-conv4_x-last"),
    # v1.5: the first 1x1 of conv3_x still runs at 56x56, the 3x3 halves the resolution
    pytest.param("resnet50", "conv3_x/block_1/conv1", (56, 56, 128), 256 * 128, id="resnet50-conv3_x-conv1"),
    pytest.param("resnet50", "conv3_x/block_1/conv2", (28, 28, 128), 3 * 3 * 128 * 128, id="resnet50-conv3_x-conv2"),
    pytest.param("resnet50", "conv3_x/block_1/downsample", (28, 28, 512), 256 * 512, id="resnet50-projection"),
    # He et al., Table 1: the last feature map is 7x7 with 4 x 512 = 2048 channels
    pytest.param("resnet50", "conv5_x/block_3/relu3", (7, 7, 2048), 0, id="resnet50-features"),
    pytest.param("resnet50", "fc", (1000,), 2048 * 1000 + 1000, id="resnet50-fc"),
    # Howard et al., Table 1: Conv / s2, 3x3x3x32 on 224x224x3; Keras summary: conv1 864, conv1_bn 128
    pytest.param("mobilenet_v1", "conv1", (112, 112, 32), 3 * 3 * 3 * 32, id="mobilenet-conv1"),
    pytest.param("mobilenet_v1", "conv1_bn", (112, 112, 32), 4 * 32, id="mobilenet-conv1_bn"),
    # Keras ZeroPadding2D(((0, 1), (0, 1))) before the stride-2 depthwise conv
    pytest.param("mobilenet_v1", "block_2/conv_pad", (113, 113, 64), 0, id="mobilenet-pad"),
    pytest.param("mobilenet_v1", "block_2/conv_dw", (56, 56, 64), 3 * 3 * 64, id="mobilenet-dw_s2"),
    # Table 1: the body ends at 7x7x1024; Keras summary: conv_preds 1,025,000
    pytest.param("mobilenet_v1", "block_13/conv_pw_relu", (7, 7, 1024), 0, id="mobilenet-features"),
    pytest.param("mobilenet_v1", "conv_preds", (1000,), 1024 * 1000 + 1000, id="mobilenet-conv_preds"),
    # torchvision GoogLeNet: max pools round up (ceil_mode=True), 112 -> 56 -> 28 -> 14 -> 7 (Szegedy et al., Table 1)
    pytest.param("googlenet", "maxpool1", (56, 56, 64), 0, id="googlenet-maxpool1-ceil"),
    pytest.param("googlenet", "maxpool4", (7, 7, 832), 0, id="googlenet-maxpool4-ceil"),
    pytest.param("googlenet", "inception3a/concat", (28, 28, 256), 0, id="googlenet-inception3a"),
    pytest.param("googlenet", "inception5b/concat", (7, 7, 1024), 0, id="googlenet-inception5b"),
    # Sandler et al., Table 2: the first t = 6 row expands 16 to 96 channels and halves 112 to 56
    pytest.param("mobilenet_v2", "block2_1/dw", (56, 56, 96), 3 * 3 * 96, id="mobilenet_v2-dw"),
    pytest.param("mobilenet_v2", "block7/project", (7, 7, 320), 960 * 320, id="mobilenet_v2-last-block"),
    # torchvision SqueezeExcitation in MobileNetV3: make_divisible(72 // 4, 8) = 24 squeeze channels, with bias
    pytest.param("mobilenet_v3_large", "bneck4/se_fc1", (1, 1, 24), 72 * 24 + 24, id="mobilenet_v3-se-squeeze"),
    pytest.param("mobilenet_v3_large", "bneck4/se_mul", (28, 28, 72), 0, id="mobilenet_v3-se-scale"),
    # torchvision MBConv: max(1, 16 // 4) = 4 squeeze channels from the block's input width, with bias
    pytest.param("efficientnet_b0", "stage2/block_1/se_fc1", (1, 1, 4), 96 * 4 + 4, id="efficientnet-se-squeeze"),
    # Ma et al., Table 5: stage 2 at 28x28 with 116 channels; a stride-1 unit splits them in halves
    pytest.param("shufflenet_v2_x1_0", "stage2/unit_2/x2", (28, 28, 58), 0, id="shufflenet-split"),
    pytest.param("shufflenet_v2_x1_0", "stage2/unit_2/shuffle", (28, 28, 116), 0, id="shufflenet-shuffle"),
]


@pytest.mark.parametrize("spec, layer, shape, params", LAYERS)
def test_layer_shape_and_params(spec, layer, shape, params):
    nodes = {n.name: n for n in analyze(spec).nodes}
    assert nodes[layer].shape == shape
    assert nodes[layer].params == params


def test_vgg16_parameters_sit_in_the_dense_layers():
    # CS231n notes, "VGGNet in detail": FC weights 102,760,448 + 16,777,216 + 4,096,000, "most of the
    # parameters are in the last FC layers"; each dense layer also has one bias per unit
    graph = analyze("vgg16")
    dense = sum(n.params for n in graph.nodes if n.type == "dense")
    assert dense == (7 * 7 * 512 * 4096 + 4096) + (4096 * 4096 + 4096) + (4096 * 1000 + 1000)
    assert dense > 120_000_000 and dense / graph.totals.params > 0.89


def test_mobilenet_non_trainable_are_the_batch_norm_statistics():
    # Keras summary: Non-trainable params 21,888 = moving mean + variance of every BN's channels
    channels = (
        32
        + (32 + 64)
        + (64 + 128)
        + 2 * 128
        + (128 + 256)
        + 2 * 256
        + (256 + 512)
        + 5 * 2 * 512
        + (512 + 1024)
        + 2 * 1024
    )
    assert analyze("mobilenet_v1").totals.non_trainable == 2 * channels == 21_888


def test_cli_analyzes_bundled_spec_by_bare_name(cli):
    result = cli("analyze", "vgg16.json")
    assert result.exit_code == 0
    assert "138,357,544" in result.output
    assert "15,470,264,320" in result.output


def test_cli_set_alpha(cli):
    result = cli("analyze", "mobilenet_v1", "--set", "alpha=0.75", "--format", "json")
    assert result.exit_code == 0
    # MXNet Gluon model zoo table, mobilenet0.75
    assert json.loads(result.output)["totals"]["params"] == 2_601_976
