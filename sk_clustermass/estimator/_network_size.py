"""The size of the network a set of parameters asks for, checked before anything is built.

``n_filters=30000`` or ``dense_layers=(3_000_000_000,)`` are valid integers, and PyTorch
would try to allocate what they ask for: hundreds of GB, after the data was read. Here
the number of weights and the activation memory of one training batch are counted from
the parameters alone (no memory is touched), and a network beyond
:data:`MAX_NETWORK_WEIGHTS` or :data:`MAX_BATCH_ACTIVATION_BYTES` is refused with a
message that names the parameters to change.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MAX_BATCH_ACTIVATION_BYTES", "MAX_NETWORK_WEIGHTS", "check_network_size",
           "network_size"]

#: Most weights a network may have: 4e8 float32 weights are 1.6 GB, 6.4 GB with their
#: gradients and Adam's two moments; the default network has about 2e5.
MAX_NETWORK_WEIGHTS = 400_000_000
#: Most memory the activations of one training batch may take (forward values and their
#: gradients, float32), bytes: 32 GiB; the default network on 50x50 cubes needs ~0.15 GB.
MAX_BATCH_ACTIVATION_BYTES = 32 * 2**30
_FLOAT_BYTES = 4


def _conv_sizes(image_shape: tuple[int, int], est: Any) -> tuple[list[int], int]:
    """Pixels of every convolution's output, and of the last block's pooled map."""
    height, width = image_shape
    pixels = []
    for n_convs in est.conv_layers:
        for _ in range(n_convs):
            if est.padding != "same":
                height, width = height - est.kernel_size + 1, width - est.kernel_size + 1
            pixels.append(max(height, 0) * max(width, 0))
        height, width = height // est.pool_size, width // est.pool_size
    return pixels, max(height, 0) * max(width, 0)


def network_size(est: Any, image_shape: tuple[int, int], n_bands: int = 10) -> tuple[int, int]:
    """Weights of the network and activation bytes of one training batch.

    Parameters
    ----------
    est : ClusterMassRegressor
        Any object with the architecture parameters (``n_filters``, ``kernel_size``,
        ``conv_layers``, ``pool_size``, ``padding``, ``dense_layers``, ``use_redshift``,
        ``use_exposure``, ``batch_size``) as attributes.
    image_shape : tuple of int
        ``(height, width)`` of the images, pixels.
    n_bands : int, default=10
        Input channels.

    Returns
    -------
    n_weights : int
        Trainable weights and biases.
    activation_bytes : int
        Memory of the activations of one batch of ``batch_size`` clusters in training,
        forward values and their gradients, float32 (an estimate: the allocator adds to it).

    Examples
    --------
    >>> from sk_clustermass import ClusterMassRegressor
    >>> n_weights, activations = network_size(ClusterMassRegressor(), (50, 50))
    >>> n_weights, round(activations / 1e6)
    (221894, 146)
    """
    filters, kernel = int(est.n_filters), int(est.kernel_size)
    pixels, flat_pixels = _conv_sizes(tuple(image_shape), est)
    n_weights, channels = 0, int(n_bands)
    for _ in pixels:
        n_weights += channels * filters * kernel * kernel + filters
        channels = filters
    width_in = filters * flat_pixels + int(bool(est.use_redshift)) + int(bool(est.use_exposure))
    per_cluster = 2 * filters * sum(pixels) + width_in  # convolution and LeakyReLU outputs
    for width in (*est.dense_layers, 2):
        n_weights += width_in * int(width) + int(width)
        per_cluster += 2 * int(width)
        width_in = int(width)
    return n_weights, 2 * per_cluster * int(est.batch_size) * _FLOAT_BYTES


def check_network_size(est: Any, image_shape: tuple[int, int], n_bands: int = 10) -> None:
    """Refuse a network too large to build, naming the parameters to change.

    Parameters
    ----------
    est, image_shape, n_bands
        As for :func:`network_size`.

    Raises
    ------
    ValueError
        If the network has more than :data:`MAX_NETWORK_WEIGHTS` weights or one
        training batch more than :data:`MAX_BATCH_ACTIVATION_BYTES` of activations.
    """
    n_weights, activation_bytes = network_size(est, image_shape, n_bands)
    settings = (f"n_filters={est.n_filters}, dense_layers={tuple(est.dense_layers)}, "
                f"conv_layers={tuple(est.conv_layers)}, kernel_size={est.kernel_size}")
    if n_weights > MAX_NETWORK_WEIGHTS:
        message = (
            f"the network would have {n_weights:.3g} weights ({settings} on "
            f"{image_shape[0]}x{image_shape[1]} images of {n_bands} bands); at most "
            f"{MAX_NETWORK_WEIGHTS:.0e} are allowed ({MAX_NETWORK_WEIGHTS * 4 / 1e9:.1f} GB "
            "as float32). Use fewer n_filters or narrower dense_layers (the default "
            "network has about 2e5)"
        )
        raise ValueError(message)
    if activation_bytes > MAX_BATCH_ACTIVATION_BYTES:
        message = (
            f"one training batch of the network would need about "
            f"{activation_bytes / 2**30:.0f} GiB of activations ({settings}, "
            f"batch_size={est.batch_size}, on {image_shape[0]}x{image_shape[1]} images); "
            f"at most {MAX_BATCH_ACTIVATION_BYTES / 2**30:.0f} GiB are allowed. Use fewer "
            "n_filters or a smaller batch_size"
        )
        raise ValueError(message)
