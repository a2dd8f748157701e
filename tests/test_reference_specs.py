"""The bundled reference specs against the totals their sources publish.

Conventions of the sources: torchvision's ``num_params`` counts trainable weights only
(our ``trainable``: batch norm's running statistics are buffers, not parameters), and
its "GFLOPS" are conv + dense multiply-adds in units of 10^9 (our ``macs``). Keras'
"Total params" and MXNet Gluon's "# Parameters" include the moving statistics (our
``params``). A figure published only rounded is checked at the published precision, and
the exact integer this spec gives is pinned beside it as a regression value.
"""

import json
from dataclasses import dataclass, field

import pytest

from flopcount import analyze

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


@dataclass(frozen=True)
class Published:
    """What sources publish for one spec at one variable setting, and what this spec computes."""

    spec: str
    trainable: int | None  # exact, published
    params: int | None  # exact, published; moving statistics included
    listed: tuple  # (figure, unit, digits): published MACs rounded, figure == round(macs / unit, digits)
    macs: int  # exact: published where `exact_macs`, else computed by this spec (regression pin)
    exact_macs: bool = False
    overrides: dict = field(default_factory=dict)


CASES = [
    pytest.param(
        Published(
            "vgg16",
            # torchvision VGG16_Weights.IMAGENET1K_V1 num_params (torchvision/models/vgg.py); Keras VGG16 summary agrees
            trainable=138_357_544,
            params=138_357_544,
            # torchvision VGG16_Weights docs: GFLOPS 15.47
            listed=(15.47, 10**9, 2),
            # exact: the sum of products above, which is 15,470,264,320
            macs=VGG16_MACS,
            exact_macs=True,
        ),
        id="vgg16",
    ),
    pytest.param(
        Published(
            "vgg19",
            # torchvision VGG19_Weights.IMAGENET1K_V1 num_params; MXNet Gluon model zoo vgg19 agrees
            trainable=143_667_240,
            params=143_667_240,
            # torchvision VGG19_Weights docs: GFLOPS 19.63 (meta '_ops': 19.632)
            listed=(19.63, 10**9, 2),
            # computed by this spec, matches the rounded published figure
            macs=19_632_062_464,
        ),
        id="vgg19",
    ),
    pytest.param(
        Published(
            "resnet18",
            # torchvision ResNet18_Weights.IMAGENET1K_V1 num_params (torchvision/models/resnet.py)
            trainable=11_689_512,
            # MXNet Gluon model zoo table, resnet18_v1 (same network; counts BN running mean/variance)
            params=11_699_112,
            # torchvision ResNet18_Weights docs: GFLOPS 1.81 (meta '_ops': 1.814)
            listed=(1.81, 10**9, 2),
            # computed by this spec, matches the rounded published figure
            macs=1_814_073_344,
        ),
        id="resnet18",
    ),
    pytest.param(
        Published(
            "resnet34",
            # torchvision ResNet34_Weights.IMAGENET1K_V1 num_params
            trainable=21_797_672,
            # MXNet Gluon model zoo table, resnet34_v1
            params=21_814_696,
            # torchvision ResNet34_Weights docs: GFLOPS 3.66 (meta '_ops': 3.664)
            listed=(3.66, 10**9, 2),
            # computed by this spec, matches the rounded published figure
            macs=3_663_761_408,
        ),
        id="resnet34",
    ),
    pytest.param(
        Published(
            "resnet50",
            # torchvision ResNet50_Weights.IMAGENET1K_V1 num_params (v1.5); Gluon's resnet50_v1 differs (biased 1x1 convs)
            trainable=25_557_032,
            params=None,
            # torchvision ResNet50_Weights docs: GFLOPS 4.09 (meta '_ops': 4.089)
            listed=(4.09, 10**9, 2),
            # computed by this spec, matches the rounded published figure
            macs=4_089_184_256,
        ),
        id="resnet50",
    ),
    pytest.param(
        Published(
            "alexnet",
            # torchvision AlexNet_Weights.IMAGENET1K_V1 num_params (torchvision/models/alexnet.py)
            trainable=61_100_840,
            params=61_100_840,
            # torchvision AlexNet_Weights docs: GFLOPS 0.71 (meta '_ops': 0.714)
            listed=(0.71, 10**9, 2),
            # computed by this spec, matches the rounded published figure
            macs=714_188_480,
        ),
        id="alexnet",
    ),
    pytest.param(
        Published(
            "mobilenet_v1",
            # Keras MobileNet(weights=None).summary(): Trainable params 4,231,976, Total params 4,253,864
            trainable=4_231_976,
            params=4_253_864,
            # Howard et al. 2017, Table 2 (and Table 6, 1.0 MobileNet-224): 569 million mult-adds
            listed=(569, 10**6, 0),
            # computed by this spec, matches the rounded published figure
            macs=568_740_352,
        ),
        id="mobilenet_v1",
    ),
    pytest.param(
        Published(
            "mobilenet_v1",
            trainable=None,
            # MXNet Gluon model zoo table, mobilenet0.75 (int(c * 0.75) channels, BN statistics counted)
            params=2_601_976,
            # Howard et al. 2017, Table 6: 0.75 MobileNet-224, 325 million mult-adds
            listed=(325, 10**6, 0),
            # computed by this spec, matches the rounded published figure
            macs=325_400_448,
            overrides={"alpha": "0.75"},
        ),
        id="mobilenet_v1-alpha=0.75",
    ),
    pytest.param(
        Published(
            "mobilenet_v1",
            trainable=None,
            # MXNet Gluon model zoo table, mobilenet0.5
            params=1_342_536,
            # Howard et al. 2017, Table 6: 0.50 MobileNet-224, 149 million mult-adds
            listed=(149, 10**6, 0),
            # computed by this spec, matches the rounded published figure
            macs=149_497_088,
            overrides={"alpha": "0.5"},
        ),
        id="mobilenet_v1-alpha=0.5",
    ),
    pytest.param(
        Published(
            "mobilenet_v1",
            trainable=None,
            # MXNet Gluon model zoo table, mobilenet0.25
            params=475_544,
            # Howard et al. 2017, Table 6: 0.25 MobileNet-224, 41 million mult-adds
            listed=(41, 10**6, 0),
            # computed by this spec, matches the rounded published figure
            macs=41_030_272,
            overrides={"alpha": "0.25"},
        ),
        id="mobilenet_v1-alpha=0.25",
    ),
    pytest.param(
        Published(
            "mobilenet_v1",
            # Howard et al. 2017, Table 7: the same 4.2 M parameters at every resolution (global pooling)
            trainable=4_231_976,
            params=4_253_864,
            # Howard et al. 2017, Table 7: 1.0 MobileNet-192, 418 million mult-adds
            listed=(418, 10**6, 0),
            # computed by this spec, matches the rounded published figure
            macs=418_121_728,
            overrides={"resolution": "192"},
        ),
        id="mobilenet_v1-resolution=192",
    ),
    pytest.param(
        Published(
            "mobilenet_v1",
            trainable=4_231_976,
            params=4_253_864,
            # Howard et al. 2017, Table 7: 1.0 MobileNet-128, 186 million mult-adds
            listed=(186, 10**6, 0),
            # computed by this spec, matches the rounded published figure
            macs=186_400_768,
            overrides={"resolution": "128"},
        ),
        id="mobilenet_v1-resolution=128",
    ),
]


@pytest.mark.parametrize("case", CASES)
def test_totals_match_published_figures(case):
    totals = analyze(case.spec, case.overrides).totals
    if case.trainable is not None:
        assert totals.trainable == case.trainable
    if case.params is not None:
        assert totals.params == case.params
    figure, unit, digits = case.listed
    assert round(totals.macs / unit, digits) == figure
    assert totals.macs == case.macs


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
    channels = 32 + (32 + 64) + (64 + 128) + 2 * 128 + (128 + 256) + 2 * 256 + (256 + 512) + 5 * 2 * 512 + (512 + 1024) + 2 * 1024
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
