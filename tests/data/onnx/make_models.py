"""Export torchvision classifiers to ONNX for the tests and the benchmark (run by hand; needs torch).

    python tests/data/onnx/make_models.py [--weights DIR]

Each model is built with weights=None (nothing is downloaded: random weights) and exported
with torch.onnx.export (the TorchScript exporter, opset 17, do_constant_folding=False so
batch norm stays a BatchNormalization node instead of being folded into the convolution
before it, which would change the parameter count). The graph is saved here with its weights
as external data in a separate file that is then deleted: counting needs only the
initializers' dimensions, so the checked-in files are a few kilobytes. With --weights DIR,
the full files (weights embedded) are written to DIR too, for the benchmark and for
`flopcount run`. Generated with torch 2.14.1 and torchvision 0.29.1.
"""

import argparse
import os
from pathlib import Path

import onnx
import torch
import torchvision

HERE = Path(__file__).parent
MODELS = [
    "resnet18",
    "resnet50",
    "vgg16",
    "alexnet",
    "mobilenet_v2",
    "mobilenet_v3_large",
    "efficientnet_b0",
    "googlenet",
    "vit_b_16",
    "convnext_tiny",
]


def export(name, path):
    torch.manual_seed(0)
    kwargs = {"aux_logits": False, "init_weights": True} if name == "googlenet" else {}
    model = getattr(torchvision.models, name)(weights=None, **kwargs).eval()
    x = torch.randn(1, 3, 224, 224)
    torch.onnx.export(
        model,
        (x,),
        path,
        opset_version=17,
        dynamo=False,
        do_constant_folding=False,
        input_names=["input"],
        output_names=["logits"],
    )
    return sum(p.numel() for p in model.parameters())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--weights", type=Path, help="also keep the full files (weights embedded) in this folder")
    args = parser.parse_args()
    for name in MODELS:
        full = (args.weights or HERE) / f"{name}.full.onnx"
        params = export(name, full)
        model = onnx.load(full)
        onnx.save(
            model,
            HERE / f"{name}.onnx",
            save_as_external_data=True,
            all_tensors_to_one_file=True,
            location=f"{name}.data",
            size_threshold=0,
        )
        os.remove(HERE / f"{name}.data")
        if args.weights is None:
            os.remove(full)
        print(f"{name}: {params:,} parameters (torch), graph {os.path.getsize(HERE / f'{name}.onnx'):,} bytes")


if __name__ == "__main__":
    main()
