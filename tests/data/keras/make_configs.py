"""Write the Keras Applications configs the tests read (run by hand; needs keras and a backend).

    KERAS_BACKEND=torch python tests/data/keras/make_configs.py

Each model is built with weights=None (nothing is downloaded) and saved as its
model.to_json(), compacted and gzipped; Keras' own count_params() is printed beside it,
the figure the tests assert. Generated with Keras 3.15.1 (torch backend): MobileNet
4,253,864; ResNet50 25,636,712; VGG16 138,357,544; EfficientNetB0 5,330,571.
"""

import gzip
import json
from pathlib import Path

from keras import applications

HERE = Path(__file__).parent
MODELS = {
    "mobilenet": applications.MobileNet,
    "resnet50": applications.ResNet50,
    "vgg16": applications.VGG16,
    "efficientnetb0": applications.EfficientNetB0,
}

for name, build in MODELS.items():
    model = build(weights=None)
    doc = json.loads(model.to_json())
    with gzip.open(HERE / f"{name}.json.gz", "wt") as f:
        json.dump(doc, f, separators=(",", ":"))
    trainable = sum(int(w.numpy().size) for w in model.trainable_weights)
    print(f"{name}: {model.count_params():,} parameters, {trainable:,} trainable")
