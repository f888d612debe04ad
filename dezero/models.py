"""dezero.models: Model (a Layer that can draw its graph), Sequential, MLP and VGG16."""

import os

import numpy as np

import dezero.functions as F
import dezero.layers as L
from dezero import utils


class Model(L.Layer):
    def plot(self, *inputs, to_file="model.png"):
        """Run forward on `inputs` and render the graph with Graphviz (see utils.plot_dot_graph)."""
        y = self.forward(*inputs)
        return utils.plot_dot_graph(y, verbose=True, to_file=to_file)


class Sequential(Model):
    """Layers (or any callables that are Layers) applied in order; registered as l0, l1, ..."""

    def __init__(self, *layers):
        super().__init__()
        self.layers = []
        for i, layer in enumerate(layers):
            setattr(self, f"l{i}", layer)
            self.layers.append(layer)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class MLP(Model):
    """Linear layers of the given output sizes, `activation` between them (not after the last)."""

    def __init__(self, fc_output_sizes, activation=F.sigmoid):
        super().__init__()
        self.activation = activation
        self.layers = []
        for i, out_size in enumerate(fc_output_sizes):
            layer = L.Linear(out_size)
            setattr(self, f"l{i}", layer)
            self.layers.append(layer)

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = self.activation(layer(x))
        return self.layers[-1](x)


VGG16_WEIGHTS = os.path.join(os.path.expanduser("~"), ".dezero", "vgg16.npz")


class VGG16(Model):
    """The VGG-16 architecture (ImageNet, 224x224 RGB input).

    Weights are never downloaded: `pretrained=True` loads `weights_path` (default
    ~/.dezero/vgg16.npz, the file name the book's cache uses) and says where it looked.
    """

    def __init__(self, pretrained=False, weights_path=None):
        super().__init__()
        blocks = [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)]
        for b, (channels, count) in enumerate(blocks, start=1):
            for i in range(1, count + 1):
                setattr(self, f"conv{b}_{i}", L.Conv2d(channels, kernel_size=3, stride=1, pad=1))
        self.fc6 = L.Linear(4096)
        self.fc7 = L.Linear(4096)
        self.fc8 = L.Linear(1000)
        self._blocks = blocks
        if pretrained or weights_path is not None:
            path = weights_path or VGG16_WEIGHTS
            if not os.path.exists(path):
                raise FileNotFoundError(
                    f"VGG16 weights not found at {path}; dezero does not download them. "
                    "Put the book's vgg16.npz there or pass weights_path="
                )
            self.load_weights(path)

    def forward(self, x):
        for b, (_, count) in enumerate(self._blocks, start=1):
            for i in range(1, count + 1):
                x = F.relu(getattr(self, f"conv{b}_{i}")(x))
            x = F.pooling(x, 2, 2)
        x = F.reshape(x, (x.shape[0], -1))
        x = F.dropout(F.relu(self.fc6(x)))
        x = F.dropout(F.relu(self.fc7(x)))
        return self.fc8(x)

    @staticmethod
    def preprocess(image, size=(224, 224), dtype=np.float32):
        """PIL image -> (3, 224, 224) BGR array minus the ImageNet channel means."""
        image = image.convert("RGB")
        if size:
            image = image.resize(size)
        x = np.asarray(image, dtype=dtype)[:, :, ::-1]
        x = x - np.array([103.939, 116.779, 123.68], dtype=dtype)
        return x.transpose((2, 0, 1))
