"""dezero.transforms: small callables applied to one example (PIL image or ndarray)."""

import numpy as np


class Compose:
    """Apply the transforms in order; an empty list is the identity."""

    def __init__(self, transforms=()):
        self.transforms = list(transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img


# =============================================================================
# PIL images (Pillow is imported only when one of these runs)
# =============================================================================
class Convert:
    def __init__(self, mode="RGB"):
        self.mode = mode

    def __call__(self, img):
        if self.mode == "BGR":
            r, g, b = img.convert("RGB").split()
            from PIL import Image  # deferred: Pillow is optional and slow to import

            return Image.merge("RGB", (b, g, r))
        return img.convert(self.mode)


class Resize:
    """Resize to `size` (an int n means n x n)."""

    def __init__(self, size, mode=None):
        self.size = (size, size) if isinstance(size, int) else tuple(size)
        self.mode = mode

    def __call__(self, img):
        from PIL import Image  # deferred: Pillow is optional and slow to import

        return img.resize(self.size, self.mode if self.mode is not None else Image.BILINEAR)


class CenterCrop:
    def __init__(self, size):
        self.size = (size, size) if isinstance(size, int) else tuple(size)

    def __call__(self, img):
        W, H = img.size
        OW, OH = self.size
        left, up = (W - OW) // 2, (H - OH) // 2
        return img.crop((left, up, left + OW, up + OH))


class ToArray:
    """PIL image -> (C, H, W) array of `dtype`; an ndarray passes through."""

    def __init__(self, dtype=np.float32):
        self.dtype = dtype

    def __call__(self, img):
        if isinstance(img, np.ndarray):
            return img
        x = np.asarray(img)
        x = x[:, :, None] if x.ndim == 2 else x
        return x.transpose(2, 0, 1).astype(self.dtype)


class ToPIL:
    """(C, H, W) array -> PIL image."""

    def __call__(self, array):
        from PIL import Image  # deferred: Pillow is optional and slow to import

        return Image.fromarray(array.transpose(1, 2, 0))


# =============================================================================
# ndarrays
# =============================================================================
def _per_channel(value, array):
    """A scalar as is; a list as an array shaped to broadcast along the first (channel) axis.
    A one-element list applies to every channel."""
    if np.isscalar(value):
        return value
    channels = len(array) if len(value) == 1 else len(value)
    return np.array(value, dtype=array.dtype).reshape((channels,) + (1,) * (array.ndim - 1))


class Normalize:
    """(x - mean) / std; per-channel lists apply along the first axis of a (C, H, W) array."""

    def __init__(self, mean=0, std=1):
        self.mean, self.std = mean, std

    def __call__(self, array):
        return (array - _per_channel(self.mean, array)) / _per_channel(self.std, array)


class Flatten:
    """Any array to one dimension (a copy)."""

    def __call__(self, array):
        return array.flatten()


class AsType:
    """Cast to `dtype`; ToFloat and ToInt are this with float32 and int defaults."""

    def __init__(self, dtype=np.float32):
        self.dtype = dtype

    def __call__(self, array):
        return array.astype(self.dtype)


ToFloat = AsType


class ToInt(AsType):
    """AsType defaulting to Python's int."""

    def __init__(self, dtype=int):
        super().__init__(dtype)
