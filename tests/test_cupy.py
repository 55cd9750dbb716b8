"""CuPy on a GPU: every public function returns CuPy arrays on the inputs' device, without a
device-to-host synchronisation (``cupyx.allow_synchronize(False)`` raises on one)."""

import numpy as np
import pytest

cupy = pytest.importorskip("cupy")
if not cupy.is_available():
    pytest.skip("CuPy is installed but no CUDA device is usable", allow_module_level=True)
import cupyx  # noqa: E402

import huberish as hb  # noqa: E402
from huberish._reference import reference  # noqa: E402

RNG = np.random.default_rng(2)
X = RNG.standard_normal((64, 16)) * 2
Y = RNG.standard_normal((16,)) * 2


@pytest.mark.filterwarnings("ignore:Using a target size")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_every_function_stays_on_the_device_without_synchronising(dtype):
    x, y = cupy.asarray(X, dtype=dtype), cupy.asarray(Y, dtype=dtype)
    one, ones = cupy.asarray(1.0, dtype=dtype), cupy.ones(X.shape, dtype=dtype)
    with cupyx.allow_synchronize(False):
        results = [
            hb.smooth_l1_loss(x, y, beta=0.5),
            *hb.smooth_l1_loss_and_grad(x, y, beta=0.5),
            *hb.smooth_l1_loss_backward(one, x, y, beta=0.5),
            hb.huber_loss(x, y, "none", 2.0),
            *hb.huber_loss_and_grad(x, y, "none", 2.0),
            *hb.huber_loss_backward(ones, x, y, "none", 2.0),
            hb.SmoothL1Loss(beta=0.0)(x, y),
        ]
    for result in results:
        assert isinstance(result, cupy.ndarray)
        assert result.device == x.device
    smooth = reference(X.astype(dtype), Y.astype(dtype), beta=0.5)
    rtol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(results[0].get(), smooth[0], rtol=rtol)
    np.testing.assert_allclose(results[2].get(), smooth[1], rtol=rtol, atol=rtol)
    np.testing.assert_allclose(results[4].get(), smooth[2], rtol=rtol, atol=rtol)
