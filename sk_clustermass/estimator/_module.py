"""The PyTorch network: a CNN over the image cube, joined by the redshift, two outputs.

The default reproduces the seed lab's architecture (the lab the project grew from): three 'valid'
convolutions of 20 filters with a 2x2 kernel, a 4x4 max-pool, two more convolutions,
another 4x4 max-pool, then dense layers 512-256-128-64, LeakyReLU everywhere and a
linear output (each block's last LeakyReLU runs after its max-pool, which gives the
same numbers on fewer pixels). The redshift joins the flattened feature map before the dense part,
and so, optionally (``use_exposure``), does ``log10(exposure / 1 ks)``. The output has
two columns: the mean and the log of the width (standard deviation) of a Gaussian on
the standardised target.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from ._fused_inference import inference_features

__all__ = ["EXPOSURE_UNIT_S", "ClusterMassCNN", "feature_map_sizes"]

#: The exposure enters the network as log10(exposure / EXPOSURE_UNIT_S), exposure in s.
EXPOSURE_UNIT_S = 1000.0


def _conv_output_size(size: int, kernel_size: int, padding: str) -> int:
    return size if padding == "same" else size - kernel_size + 1


def feature_map_sizes(
    image_size: tuple[int, int],
    *,
    kernel_size: int,
    conv_layers: Sequence[int],
    pool_size: int,
    padding: str,
) -> list[tuple[int, int]]:
    """Spatial size of the feature map after each convolution block.

    Parameters
    ----------
    image_size : tuple of int
        ``(height, width)`` of the input images in pixels.
    kernel_size : int
        Side of the square convolution kernel in pixels.
    conv_layers : sequence of int
        Number of convolutions in each block; every block ends with a max-pool.
    pool_size : int
        Side of the square max-pool window.
    padding : {'valid', 'same'}
        Convolution padding.

    Returns
    -------
    sizes : list of tuple of int
        ``(height, width)`` after each block (after its pooling).

    Raises
    ------
    ValueError
        If the feature map shrinks to zero pixels anywhere; the message names the
        parameters to change.

    Examples
    --------
    >>> feature_map_sizes((50, 50), kernel_size=2, conv_layers=(3, 2), pool_size=4,
    ...                   padding="valid")
    [(11, 11), (2, 2)]
    """
    sizes = []
    height, width = image_size
    for block, n_convs in enumerate(conv_layers):
        for layer in range(n_convs):
            height = _conv_output_size(height, kernel_size, padding)
            width = _conv_output_size(width, kernel_size, padding)
            if min(height, width) < 1:
                message = (
                    f"the feature map collapses to {height}x{width} pixels at convolution "
                    f"{layer + 1} of block {block + 1}: kernel_size={kernel_size} with "
                    f"padding='{padding}' on {image_size[0]}x{image_size[1]} images and "
                    f"conv_layers={tuple(conv_layers)}, pool_size={pool_size}. Use "
                    "padding='same', a smaller kernel_size, fewer conv_layers or a "
                    "smaller pool_size."
                )
                raise ValueError(message)
        height, width = height // pool_size, width // pool_size
        if min(height, width) < 1:
            message = (
                f"the feature map collapses to {height}x{width} pixels after the "
                f"max-pool of block {block + 1}: pool_size={pool_size}, "
                f"kernel_size={kernel_size}, padding='{padding}', "
                f"conv_layers={tuple(conv_layers)} on {image_size[0]}x{image_size[1]} "
                "images. Use a smaller pool_size, fewer blocks in conv_layers, "
                "padding='same' or a smaller kernel_size."
            )
            raise ValueError(message)
        sizes.append((height, width))
    return sizes


def _leaky_relu(negative_slope: float) -> nn.LeakyReLU:
    """A LeakyReLU that overwrites its input (a convolution's or dense layer's output).

    Neither layer needs its output for its own gradient, and the activation's gradient
    can be computed from its result when ``negative_slope >= 0`` (the sign is kept), so
    autograd allows it: one activation buffer fewer per layer, the same values. Measured
    on 2 AVX-512 cores (training steps, contended, interleaved): 1.04-1.06x in float32,
    1.02x in bfloat16.
    """
    return nn.LeakyReLU(negative_slope, inplace=negative_slope >= 0)


def _activation_after_pool(negative_slope: float) -> bool:
    """Whether a block's last LeakyReLU may run after its max-pool instead of before.

    A LeakyReLU with ``negative_slope >= 0`` never decreases (nor does rounding its
    result), so the largest activated value of a pooling window is the activation of
    its largest value: the two orders give the same outputs, bit for bit. The
    gradients are the same too, routed to the window's largest input, except where the
    activation maps two different inputs of a window to one value, the window's
    largest: the written order then sends the gradient to the first of them, this one
    to the larger (the same value, another pixel; with ``negative_slope == 0`` the
    gradient there is zero either way, and with a positive slope it takes two inputs
    within a rounding step of each other). After the pool the activation reads and writes
    ``pool_size**2`` times fewer pixels (16 times with the default 4x4 pool). Against
    the written order (``benchmarks/bench_training_ablations.py``, 2 idle AVX-512
    cores, batch 64, median of 5 rounds): ``fit`` 1.065x in float32 and 1.029x in
    bfloat16, ``predict`` 1.04x and 0.98x (within noise). A negative slope makes
    the activation decreasing below zero, so the order then stays as written.
    """
    return negative_slope >= 0


def _fewer_passes(images: torch.Tensor) -> bool:
    """Whether the input standardisation may write into buffers it allocates (``out=``).

    It may where autograd records nothing of it: in inference, and in training while
    the images need no gradient (always, except for saliency maps); not while traced
    or compiled, where the plain expression is what the compiler fuses.
    """
    return (
        (torch.is_inference_mode_enabled() or not images.requires_grad)
        and images.dtype == torch.float32
        and not torch.compiler.is_compiling()
        and not torch.jit.is_tracing()
    )


class ClusterMassCNN(nn.Module):
    """CNN mapping an image cube and a redshift (and an exposure) to a Gaussian on log10 mass.

    Parameters
    ----------
    n_bands : int
        Number of energy bands (input channels).
    image_size : tuple of int
        ``(height, width)`` of the images in pixels.
    n_filters, kernel_size, pool_size : int
        Filters in every convolution, side of their square kernel and of the
        max-pool window, in pixels.
    conv_layers, dense_layers : sequence of int
        Convolutions per block (each block ends with a max-pool); widths of the
        hidden dense layers.
    padding : {'valid', 'same'}
    dropout, negative_slope : float
        Dropout rate after every hidden dense layer; LeakyReLU slope below zero.
    use_redshift : bool
        Whether the redshift joins the dense part.

        The architecture arguments have no defaults here: the regressor's parameter
        table holds them (:func:`~sk_clustermass.estimator.network_parameters`).
    band_mean, band_scale : sequence of float, optional
        Per-band standardisation applied to the images first (learned by the
        estimator in ``fit``); identity if omitted.
    redshift_mean, redshift_scale : float, default=0.0, 1.0
        Standardisation of the redshift.
    use_exposure : bool, default=False
        Whether ``log10(exposure / 1 ks)`` joins the dense part (after the redshift);
        ``forward`` then needs the exposure.
    exposure_mean, exposure_scale : float, default=0.0, 1.0
        Standardisation of ``log10(exposure / 1 ks)``.

    Examples
    --------
    >>> import torch
    >>> from sk_clustermass.estimator import network_parameters
    >>> net = ClusterMassCNN(n_bands=10, image_size=(50, 50), **network_parameters())
    >>> out = net(torch.zeros(4, 10, 50, 50), torch.full((4,), 0.3))
    >>> tuple(out.shape)
    (4, 2)
    """

    #: ``forward`` accepts ``standardised=True`` (see :mod:`._standardised`).
    takes_standardised_images = True
    #: ``forward`` accepts ``inference_kernels=True`` (see :mod:`._fused_inference`).
    takes_inference_kernels = True

    def __init__(
        self,
        n_bands: int,
        image_size: tuple[int, int],
        *,
        n_filters: int,
        kernel_size: int,
        conv_layers: Sequence[int],
        pool_size: int,
        padding: str,
        dense_layers: Sequence[int],
        dropout: float,
        use_redshift: bool,
        negative_slope: float,
        band_mean: Sequence[float] | None = None,
        band_scale: Sequence[float] | None = None,
        redshift_mean: float = 0.0,
        redshift_scale: float = 1.0,
        use_exposure: bool = False,
        exposure_mean: float = 0.0,
        exposure_scale: float = 1.0,
    ) -> None:
        super().__init__()
        sizes = feature_map_sizes(
            tuple(image_size),
            kernel_size=kernel_size,
            conv_layers=conv_layers,
            pool_size=pool_size,
            padding=padding,
        )
        self.use_redshift = use_redshift
        mean = torch.zeros(n_bands) if band_mean is None else torch.as_tensor(band_mean)
        scale = torch.ones(n_bands) if band_scale is None else torch.as_tensor(band_scale)
        self.register_buffer("band_mean", mean.float().reshape(1, n_bands, 1, 1))
        self.register_buffer("band_scale", scale.float().reshape(1, n_bands, 1, 1))
        self.redshift_mean = float(redshift_mean)
        self.redshift_scale = float(redshift_scale)
        self.use_exposure = use_exposure
        self.exposure_mean = float(exposure_mean)
        self.exposure_scale = float(exposure_scale)

        self.features = self._build_features(
            n_bands, n_filters, kernel_size, conv_layers, pool_size, padding, negative_slope
        )
        n_flat = n_filters * sizes[-1][0] * sizes[-1][1] + int(use_redshift) + int(use_exposure)
        self.dense = nn.ModuleList()
        self.dense_dropout = nn.ModuleList()
        width_in = n_flat
        for width in dense_layers:
            self.dense.append(nn.Linear(width_in, width))
            self.dense_dropout.append(nn.Dropout(dropout))
            width_in = width
        self.activation = _leaky_relu(negative_slope)
        self.output = nn.Linear(width_in, 2)
        # Set to True by the activity regulariser: forward then keeps the hidden
        # dense activations of the last batch in ``dense_activations``.
        self.record_activations = False
        self.dense_activations: list[torch.Tensor] = []
        # Set by the prediction loop for one forward pass: called with the images, the
        # centred images (images - band_mean) and band_mean (see ``_observe``).
        self.input_observer: Callable[..., None] | None = None

    @staticmethod
    def _build_features(
        n_bands: int,
        n_filters: int,
        kernel_size: int,
        conv_layers: Sequence[int],
        pool_size: int,
        padding: str,
        negative_slope: float,
    ) -> nn.Sequential:
        # Each block's last activation runs after its max-pool where that is exact (see
        # _activation_after_pool): on pool_size**2 times fewer pixels.
        after_pool = _activation_after_pool(negative_slope)
        layers: list[nn.Module] = []
        channels = n_bands
        for n_convs in conv_layers:
            for layer in range(n_convs):
                layers.append(nn.Conv2d(channels, n_filters, kernel_size, padding=padding))
                if not (after_pool and layer == n_convs - 1):
                    layers.append(_leaky_relu(negative_slope))
                channels = n_filters
            layers.append(nn.MaxPool2d(pool_size))
            if after_pool and n_convs > 0:
                layers.append(_leaky_relu(negative_slope))
        return nn.Sequential(*layers)

    def forward(
        self,
        images: torch.Tensor,
        redshift: torch.Tensor,
        exposure: torch.Tensor | None = None,
        standardised: bool = False,
        inference_kernels: bool = False,
    ) -> torch.Tensor:
        """Predict ``(mean, log_std)`` of the standardised target.

        Parameters
        ----------
        images : torch.Tensor of shape (batch, n_bands, height, width)
        redshift : torch.Tensor of shape (batch,)
        exposure : torch.Tensor of shape (batch,), optional
            Exposure times in s; needed with ``use_exposure``, ignored otherwise.
        standardised : bool, default=False
            Whether ``images`` are already ``(images - band_mean) / band_scale``
            (float32, or the autocast dtype), as a training set standardised once per
            fit is (:func:`~._standardised.standardised_once`); then they go straight
            to the first convolution.
        inference_kernels : bool, default=False
            Run the convolution blocks through the inference kernels of
            :mod:`._fused_inference` (max-pools as maxima of strided views and, in
            bfloat16, each LeakyReLU folded into its convolution) where they apply:
            without gradients, on the CPU, not compiled or traced, no hooks. The
            estimator's prediction loop asks for them. The same values in float32.

        Returns
        -------
        out : torch.Tensor of shape (batch, 2)
            Column 0 the mean, column 1 the log standard deviation.
        """
        if standardised:  # channels_last already, unless a random symmetry permuted it
            images = images.contiguous(memory_format=torch.channels_last)
        else:
            images = self._standardise(images)
        if inference_kernels:
            x = inference_features(self.features, images).flatten(1)
        else:
            x = self.features(images).flatten(1)
        if self.use_redshift:
            # Standardised in the buffers' precision (float32), then cast to the
            # features' dtype (bfloat16 under autocast), not the other way round.
            z = redshift.reshape(-1, 1).to(self.band_mean.dtype)
            z = (z - self.redshift_mean) / self.redshift_scale
            x = torch.cat([x, z.to(x.dtype)], dim=1)
        if self.use_exposure:
            x = torch.cat([x, self._log_exposure(exposure).to(x.dtype)], dim=1)
        activations = []
        for linear, dropout in zip(self.dense, self.dense_dropout):
            x = self.activation(linear(x))
            activations.append(x)
            x = dropout(x)
        if self.record_activations:
            self.dense_activations = activations
        return self._head(x)

    def _log_exposure(self, exposure: torch.Tensor | None) -> torch.Tensor:
        """Standardised ``log10(exposure / 1 ks)``, shape (batch, 1), float32."""
        if exposure is None:
            message = (
                "this network was built with use_exposure=True and needs the exposure "
                "(s) of every cluster: pass it as the third input, X['exposure']"
            )
            raise ValueError(message)
        log_t = torch.log10(exposure.reshape(-1, 1).to(self.band_mean.dtype) / EXPOSURE_UNIT_S)
        return (log_t - self.exposure_mean) / self.exposure_scale

    def _standardise(self, images: torch.Tensor) -> torch.Tensor:
        """``(images - band_mean) / band_scale`` in float32, in channels_last layout.

        Where the images need no gradient (inference, and training but for saliency
        maps; not traced or compiled) fewer passes over the batch write the same
        values, bit for bit (each element is the same float32 subtraction and
        division). In float32 the difference is made in the input's layout, divided in
        place and copied once into channels_last (one allocation less; 35% faster
        than the plain expression on an NCHW batch, and 10 times faster on a
        channels_last one, where broadcasting the band constants along the innermost
        10-element axis defeats vectorisation; measured on a 2-core AVX-512 EPYC).
        Under autocast the quotient is stored in the autocast dtype (what the first
        convolution would cast it to) and left in NCHW: the first convolution of a
        channels_last network reads it as fast as channels_last (measured), so a
        layout copy would only cost time.
        """
        if not _fewer_passes(images):
            centred = images - self.band_mean
            self._observe(images, centred)
            return (centred / self.band_scale).contiguous(memory_format=torch.channels_last)
        device_type = images.device.type
        centred = torch.sub(images, self.band_mean)  # in the input's layout
        self._observe(images, centred)
        if torch.is_autocast_enabled(device_type):
            out = torch.empty_like(centred, dtype=torch.get_autocast_dtype(device_type))
            torch.div(centred, self.band_scale, out=out)
            return out  # the first convolution takes NCHW as fast as channels_last
        centred.div_(self.band_scale)
        return centred.contiguous(memory_format=torch.channels_last)

    def _observe(self, images: torch.Tensor, centred: torch.Tensor) -> None:
        """Show ``images - band_mean`` to :attr:`input_observer`, if one is set.

        The prediction loop sets an observer for the duration of one forward pass:
        the input scan then sums the centred batch while it is still in the caches
        (:meth:`~._inference.InputScan.observe_centred`) instead of reading the batch
        from memory a second time.
        """
        observer = getattr(self, "input_observer", None)  # absent in older pickles
        if observer is not None:
            observer(images, centred, self.band_mean)

    def _head(self, x: torch.Tensor) -> torch.Tensor:
        """The output layer; in float32 even under autocast (mean and log-width exact)."""
        device_type = x.device.type
        if not torch.is_autocast_enabled(device_type):
            return self.output(x)
        with torch.autocast(device_type, enabled=False):
            return self.output(x.float())
