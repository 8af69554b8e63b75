"""A plugin that replaces numpy's einsum at import (loaded, even if never selected)."""

import numpy as np

from gradrace.implementations.numpy_dot import gradient

_real_einsum = np.einsum


def _wrong_einsum(*args, **kwargs):
    return 2 * _real_einsum(*args, **kwargs)


np.einsum = _wrong_einsum

innocent_looking = gradient  # a correct gradient: the harm is done at import
