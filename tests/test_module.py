"""The CNN module: shapes, the seed architecture and collapsing feature maps."""

import pytest
import torch

from sk_clustermass.estimator import network_parameters
from sk_clustermass.estimator._module import ClusterMassCNN, feature_map_sizes


def test_seed_architecture_shapes():
    net = ClusterMassCNN(n_bands=10, image_size=(50, 50), **network_parameters())
    convs = [m for m in net.features if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 5
    assert all(c.out_channels == 20 and c.kernel_size == (2, 2) for c in convs)
    assert [layer.out_features for layer in net.dense] == [512, 256, 128, 64]
    # 20 filters x 2 x 2 after two 4x4 pools, plus the redshift
    assert net.dense[0].in_features == 20 * 2 * 2 + 1
    out = net(torch.rand(3, 10, 50, 50), torch.rand(3))
    assert out.shape == (3, 2)


def test_redshift_changes_output_only_when_used():
    torch.manual_seed(0)
    images = torch.rand(2, 3, 20, 20)
    for use_redshift in (True, False):
        net = ClusterMassCNN(3, (20, 20), **network_parameters(
            conv_layers=(1,), pool_size=2, use_redshift=use_redshift)).eval()
        low = net(images, torch.full((2,), 0.1))
        high = net(images, torch.full((2,), 1.0))
        assert (not torch.equal(low, high)) == use_redshift


def test_large_kernel_valid_padding_raises_named_error():
    with pytest.raises(ValueError, match=r"kernel_size=17.*padding='same'"):
        feature_map_sizes((50, 50), kernel_size=17, conv_layers=(3, 2), pool_size=4,
                          padding="valid")
    # 'same' padding keeps the map alive
    assert feature_map_sizes((50, 50), kernel_size=17, conv_layers=(3, 2), pool_size=4,
                             padding="same") == [(12, 12), (3, 3)]


def test_pool_collapse_raises():
    with pytest.raises(ValueError, match="pool_size"):
        feature_map_sizes((8, 8), kernel_size=1, conv_layers=(1, 1, 1), pool_size=4,
                          padding="valid")


def test_dropout_after_every_dense_layer():
    net = ClusterMassCNN(3, (20, 20), **network_parameters(
        conv_layers=(1,), pool_size=2, dense_layers=(8, 4, 2), dropout=0.3))
    assert [d.p for d in net.dense_dropout] == [0.3, 0.3, 0.3]


@pytest.mark.parametrize("layout", [torch.contiguous_format, torch.channels_last])
@pytest.mark.parametrize("mode", ["inference", "training"])
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_lean_standardisation_is_bit_identical(precision, mode, layout):
    """The shortcut (fewer passes, buffers it owns) writes the values of the plain
    expression, in inference and in training (images that need no gradient), from
    NCHW and from channels_last batches."""
    torch.manual_seed(0)
    net = ClusterMassCNN(10, (50, 50), band_mean=torch.rand(10), band_scale=torch.rand(10) + 0.5,
                         **network_parameters())
    net = net.eval().to(memory_format=torch.channels_last)
    images, redshift = torch.rand(5, 10, 50, 50) * 4, torch.rand(5)
    images = images.contiguous(memory_format=layout)
    dtype = torch.bfloat16
    context = (lambda: torch.autocast("cpu", dtype=dtype)) if precision == "bf16" else (
        lambda: torch.autocast("cpu", enabled=False))
    with torch.no_grad(), context():  # an input that needs a gradient takes the plain way
        plain_input = net._standardise(images.clone().requires_grad_())
        plain = net(images.clone().requires_grad_(), redshift)
    lean_mode = torch.inference_mode if mode == "inference" else torch.enable_grad
    with lean_mode(), context():
        lean_input, lean = net._standardise(images), net(images, redshift)
    # fp32: written straight into channels_last memory; bf16: left in NCHW, which the
    # first convolution of a channels_last network reads as fast.
    expected_layout = torch.channels_last if precision == "fp32" else layout
    assert lean_input.is_contiguous(memory_format=expected_layout)
    expected_dtype = dtype if precision == "bf16" else torch.float32
    assert lean_input.dtype == expected_dtype
    assert torch.equal(plain_input.to(expected_dtype), lean_input)
    assert torch.equal(plain, lean)
    assert lean.requires_grad == (mode == "training")  # the weights still get gradients


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_in_place_activations_give_the_gradients_of_out_of_place_ones(precision):
    """Issue 29: the LeakyReLUs overwrite the layer outputs; autograd gets the same numbers."""
    from sk_clustermass.estimator._precision import autocast

    torch.manual_seed(0)
    params = network_parameters(conv_layers=(2, 1), pool_size=2, dense_layers=(16, 8))
    lean = ClusterMassCNN(3, (16, 16), **params)
    relus = [m for m in lean.modules() if isinstance(m, torch.nn.LeakyReLU)]
    assert len(relus) == 4 and all(m.inplace for m in relus)  # 3 convolutions, shared dense
    plain = ClusterMassCNN(3, (16, 16), **params)
    plain.load_state_dict(lean.state_dict())
    for module in plain.modules():
        if isinstance(module, torch.nn.LeakyReLU):
            module.inplace = False
    images, redshift = torch.randn(4, 3, 16, 16), torch.rand(4)
    grads = []
    for net in (lean, plain):
        with autocast(precision, "cpu"):
            out = net(images, redshift)
        out.float().square().sum().backward()
        grads.append([p.grad for p in net.parameters()])
    for lean_grad, plain_grad in zip(*grads):
        torch.testing.assert_close(lean_grad, plain_grad, rtol=0, atol=0)


def test_a_negative_slope_keeps_the_activation_out_of_place():
    net = ClusterMassCNN(3, (16, 16), **network_parameters(
        conv_layers=(1,), pool_size=2, negative_slope=-0.1))
    assert not any(m.inplace for m in net.modules() if isinstance(m, torch.nn.LeakyReLU))


def _written_order(net: ClusterMassCNN, negative_slope: float) -> torch.nn.Sequential:
    """``net.features`` with every activation back before its block's max-pool (the
    architecture as written), sharing the convolutions' weights."""
    layers: list[torch.nn.Module] = []
    for layer in net.features:
        if isinstance(layer, torch.nn.LeakyReLU) and isinstance(layers[-1], torch.nn.MaxPool2d):
            layers.insert(len(layers) - 1, torch.nn.LeakyReLU(negative_slope))
        elif isinstance(layer, torch.nn.LeakyReLU):
            layers.append(torch.nn.LeakyReLU(negative_slope))
        else:
            layers.append(layer)
    return torch.nn.Sequential(*layers)


@pytest.mark.parametrize("negative_slope", [0.01, 0.0, 0.3])
def test_the_activation_after_the_pool_gives_the_written_values_and_gradients(negative_slope):
    torch.manual_seed(0)
    net = ClusterMassCNN(10, (50, 50), **network_parameters(negative_slope=negative_slope))
    kinds = [type(layer).__name__ for layer in net.features]
    assert kinds == ["Conv2d", "LeakyReLU", "Conv2d", "LeakyReLU", "Conv2d", "MaxPool2d",
                     "LeakyReLU", "Conv2d", "LeakyReLU", "Conv2d", "MaxPool2d", "LeakyReLU"]
    written = _written_order(net, negative_slope)
    images = torch.randn(4, 10, 50, 50)
    images[0, :, 10:20, 10:20] = 0.0  # windows of equal values: ties of the max-pool
    gradients = []
    for features in (net.features, written):
        inputs = images.clone().requires_grad_(True)
        features.zero_grad()
        out = features(inputs)
        (out * torch.linspace(-1, 1, out.numel()).reshape(out.shape)).sum().backward()
        gradients.append([inputs.grad, *(p.grad for p in features.parameters())])
        if features is net.features:
            lean_out = out.detach()
    torch.testing.assert_close(lean_out, written(images).detach(), rtol=0, atol=0)
    for lean, plain in zip(*gradients):
        torch.testing.assert_close(lean, plain, rtol=0, atol=0)


def test_a_negative_slope_keeps_the_activation_before_the_pool():
    net = ClusterMassCNN(3, (16, 16), **network_parameters(
        conv_layers=(2,), pool_size=2, negative_slope=-0.1))
    kinds = [type(layer).__name__ for layer in net.features]
    assert kinds == ["Conv2d", "LeakyReLU", "Conv2d", "LeakyReLU", "MaxPool2d"]
