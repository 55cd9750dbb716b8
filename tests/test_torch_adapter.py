"""`huberish.torch`: huberish's kernel as a torch autograd node and as nn.Modules."""

import contextlib
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from helpers import TOLERANCE, ignore_torch_deprecation  # noqa: E402

from huberish import torch as htorch  # noqa: E402
from huberish._reference import reference  # noqa: E402

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.cuda)]
REDUCTIONS = ["none", "mean", "sum"]
SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((1, 4), (3, 1))]
LOSSES = {
    "smooth_l1": (htorch.smooth_l1_loss, F.smooth_l1_loss, "beta"),
    "huber": (htorch.huber_loss, F.huber_loss, "delta"),
}


@pytest.fixture(params=DEVICES)
def device(request):
    if request.param == "cuda" and not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    return request.param


def _pair(shapes, dtype=torch.float64, device="cpu", seed=0):
    generator = torch.Generator().manual_seed(seed)
    x, y = (torch.randn(s, generator=generator, dtype=torch.float64) * 2 for s in shapes)
    return (t.to(dtype=dtype, device=device).requires_grad_() for t in (x, y))


def _quiet(function):
    """`function` with the broadcast warning silenced (it has tests of its own)."""

    def call(*args):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Using a target size", UserWarning)
            return function(*args)

    return call


@pytest.mark.parametrize("kind", LOSSES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_gradcheck_and_gradgradcheck(kind, reduction, shapes, device):
    ours, _, threshold = LOSSES[kind]
    x, y = _pair(shapes, device=device)
    weight = torch.rand(shapes[0][-1], dtype=torch.float64, device=device)

    @_quiet
    def loss(a, b):
        return ours(a, b, reduction=reduction, **{threshold: 0.7}, weight=weight)

    assert torch.autograd.gradcheck(loss, (x, y))
    assert torch.autograd.gradgradcheck(loss, (x, y))


@pytest.mark.parametrize("kind", LOSSES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_matches_torch_values_and_both_gradients(kind, reduction, dtype, device):
    ours, theirs, threshold = LOSSES[kind]
    options = {"reduction": reduction, threshold: 0.5}
    results = []
    for function in (ours, theirs):
        x, y = _pair(((5, 6), (5, 6)), dtype, device)
        loss = function(x, y, **options)
        results.append((loss, *torch.autograd.grad(loss.sum(), (x, y))))
    for a, b in zip(*results, strict=True):
        assert a.dtype == b.dtype
        assert a.device == b.device
        torch.testing.assert_close(a, b, rtol=TOLERANCE[str(dtype)[6:]], atol=1e-7)


def test_gradients_flow_only_where_required():
    x, y = _pair(((4,), (4,)))
    y.requires_grad_(False)
    htorch.smooth_l1_loss(x, y).backward()
    assert x.grad is not None
    assert y.grad is None


@pytest.mark.parametrize("kind", LOSSES)
def test_mixed_float32_float64_differentiates(kind, device):
    # torch's own HuberLoss backward raises here (pytorch#76646).
    ours, _, threshold = LOSSES[kind]
    x = torch.tensor([0.25, -2.0, 1.5], device=device, requires_grad=True)
    y = torch.tensor([0.0, 0.5, -1.0], dtype=torch.float64, device=device, requires_grad=True)
    loss = ours(x, y, **{threshold: 1.0})
    loss.backward()
    assert (loss.dtype, x.grad.dtype, y.grad.dtype) == (torch.float64, torch.float32, torch.float64)
    # At threshold 1 the two losses coincide.
    expected = reference(x.detach().cpu().numpy(), y.detach().cpu().numpy(), beta=1.0)
    np.testing.assert_allclose(loss.item(), expected[0], rtol=1e-12)
    np.testing.assert_allclose(x.grad.cpu().numpy(), expected[1], rtol=1e-6)
    np.testing.assert_allclose(y.grad.cpu().numpy(), expected[2], rtol=1e-12)


@pytest.mark.parametrize(
    ("dtype", "rtol"), [(torch.float16, 2e-3), (torch.bfloat16, 1e-2), (torch.float32, 2e-6)]
)
@pytest.mark.parametrize("kind", LOSSES)
def test_low_precision_forward_and_backward(kind, dtype, rtol, device):
    ours, _, threshold = LOSSES[kind]
    x, y = _pair(((64,), (64,)), dtype, device)
    loss = ours(x, y, **{threshold: 0.5})
    loss.backward()
    assert (loss.dtype, x.grad.dtype, y.grad.dtype) == (dtype, dtype, dtype)
    xs, ys = (t.detach().double().cpu().numpy() for t in (x, y))
    scale = 0.5 if kind == "huber" else 1.0
    expected_loss, expected_grad, _ = reference(xs, ys, beta=0.5, scale=scale)
    np.testing.assert_allclose(loss.double().item(), expected_loss, rtol=rtol)
    np.testing.assert_allclose(
        x.grad.double().cpu().numpy(),
        expected_grad,
        rtol=rtol,
        atol=rtol * np.abs(expected_grad).max(),
    )


def test_python_scalar_target():
    x = torch.tensor([0.0, 0.5, 3.0], requires_grad=True)
    loss = htorch.huber_loss(x, 1.0, reduction="sum")
    loss.backward()
    expected_loss, expected_grad, _ = reference(x.detach().numpy(), 1.0, beta=1.0, reduction="sum")
    np.testing.assert_allclose(loss.item(), expected_loss)
    np.testing.assert_allclose(x.grad.numpy(), expected_grad)


def test_broadcast_warning_points_at_the_caller_and_is_raised_once():
    x, y = _pair(((3, 4), (4,)))
    with pytest.warns(UserWarning, match="Using a target size") as record:
        htorch.smooth_l1_loss(x, y).backward()
    assert len(record) == 1
    assert record[0].filename == __file__


def test_modules_validate_at_construction_and_hold_weight():
    with pytest.raises(ValueError, match="avg is not a valid value for reduction"):
        htorch.SmoothL1Loss(reduction="avg")
    with pytest.raises(ValueError, match="`delta` must be a positive number"):
        htorch.HuberLoss(delta=0.0)
    with pytest.warns(UserWarning, match="please use reduction='sum'"):
        crit = htorch.SmoothL1Loss(size_average=False, beta=0.5)
    assert repr(crit) == "SmoothL1Loss(reduction='sum', beta=0.5)"
    weight = torch.tensor([1.0, 0.0, 2.0])
    huber = htorch.HuberLoss(delta=2.0, weight=weight).to(torch.float64)
    assert huber.weight.dtype == torch.float64
    assert repr(huber) == (  # the weight follows .to(); the repr names it
        "HuberLoss(reduction='mean', delta=2.0, weight=<torch.float64 tensor of shape (3,)>)"
    )
    x = torch.tensor([1.0, 5.0, -3.0], dtype=torch.float64, requires_grad=True)
    huber(x, torch.zeros(3, dtype=torch.float64)).backward()
    expected = reference(x.detach().numpy(), 0.0, beta=2.0, scale=2.0, weight=weight.numpy())
    np.testing.assert_allclose(x.grad.numpy(), expected[1])


def _weighted_torch(kind, x, y, weight, reduction, axis=None):
    """torch's own loss, weighted: torch's `weight` for Huber (of `input`'s shape, as torch
    requires), ``weight * loss`` by torch's autograd for smooth L1 (torch has no weight)."""
    _, theirs, name = LOSSES[kind]
    if kind == "huber" and axis is None:
        return theirs(x, y, reduction=reduction, weight=weight.expand(x.shape), **{name: 0.7})
    elements = weight * theirs(x, y, reduction="none", **{name: 0.7})
    if reduction == "none":
        return elements
    reduce = torch.mean if reduction == "mean" else torch.sum
    return reduce(elements) if axis is None else reduce(elements, dim=axis)


@pytest.mark.parametrize("kind", LOSSES)
@pytest.mark.parametrize(("reduction", "axis"), [(r, None) for r in REDUCTIONS] + [("mean", 1)])
@pytest.mark.parametrize("weight_shape", [(5, 6), (5, 1), (6,)], ids=str)
def test_weight_gets_torchs_gradient(kind, reduction, axis, weight_shape):
    """The weight's gradient (issue 19: `w.grad` stayed None), as torch's autograd gives it."""
    ours, _, name = LOSSES[kind]
    grads = []
    for function in ("ours", "torch"):
        x, y = _pair(((5, 6), (5, 6)))
        weight = torch.rand(
            weight_shape, dtype=torch.float64, generator=torch.Generator().manual_seed(3)
        )
        weight.requires_grad_()
        if function == "ours":
            loss = ours(x, y, reduction=reduction, weight=weight, axis=axis, **{name: 0.7})
        else:
            loss = _weighted_torch(kind, x, y, weight, reduction, axis)
        loss.sum().backward()
        grads.append((weight.grad, x.grad, y.grad))
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-13, atol=1e-15)


# (torch's forward-mode machinery scripts its own decompositions on first use)
@ignore_torch_deprecation("torch.jit.script")
@pytest.mark.parametrize("kind", ["smooth_l1", "huber", "pseudo_huber"])
def test_weight_forward_mode_and_second_order(kind):
    """The weight's tangent (forward mode), its mixed second derivatives (gradgradcheck) and
    the ``torch.func`` transforms (jacfwd against jacrev, vmap of grad)."""
    function = {"smooth_l1": htorch.smooth_l1_loss, "huber": htorch.huber_loss,
                "pseudo_huber": htorch.pseudo_huber_loss}[kind]  # fmt: skip
    x, y = _pair(((4, 3), (4, 3)))
    weight = torch.rand(4, 1, dtype=torch.float64, requires_grad=True)

    def loss(x, weight):
        return function(x, y.detach(), weight=weight, axis=1)

    assert torch.autograd.gradcheck(loss, (x, weight), check_forward_ad=True)
    assert torch.autograd.gradgradcheck(loss, (x, weight))
    by_forward = torch.func.jacfwd(loss, argnums=1)(x.detach(), weight.detach())
    by_reverse = torch.func.jacrev(loss, argnums=1)(x.detach(), weight.detach())
    torch.testing.assert_close(by_forward, by_reverse, rtol=1e-14, atol=1e-15)
    weights = torch.rand(3, 4, 1, dtype=torch.float64)
    batched = torch.func.vmap(torch.func.grad(lambda w: loss(x.detach(), w).sum()))(weights)
    for w, g in zip(weights, batched, strict=True):
        torch.testing.assert_close(g, torch.func.grad(lambda w: loss(x.detach(), w).sum())(w))


def _masked_torch(x, y, weight, where, reduction, axis=None, avg_factor=None):
    """torch's own Huber loss, masked and reduced by hand: the oracle for `where=`."""
    elements = F.huber_loss(torch.where(where, x, 0.0), torch.where(where, y, 0.0),
                            reduction="none", delta=0.7) * where * weight  # fmt: skip
    total = elements.sum() if axis is None else elements.sum(axis)
    if reduction == "sum":
        return total
    if reduction == "weighted_mean":
        included = (weight * where).expand(x.shape)
        return total / (included.sum() if axis is None else included.sum(axis))
    if avg_factor is not None:
        return total / avg_factor
    return total / (where.sum() if axis is None else where.sum(axis))


@pytest.mark.parametrize(
    ("reduction", "axis", "avg_factor"),
    [("mean", None, None), ("sum", None, None), ("weighted_mean", None, None),
     ("weighted_mean", 1, None), ("mean", 1, None), ("mean", None, 7.0), ("mean", 1, "tensor")],
)  # fmt: skip
def test_where_avg_factor_weighted_mean_against_torch(reduction, axis, avg_factor):
    """Issue 19 through the adapter: the loss and the gradients of input, target and weight
    with excluded infinities and NaNs, against torch's autograd of the masked formula."""
    generator = torch.Generator().manual_seed(19)
    x0 = torch.randn(5, 3, dtype=torch.float64, generator=generator)
    x0[4, 2], x0[3, 1] = float("inf"), float("nan")
    y0 = torch.randn(5, 3, dtype=torch.float64, generator=generator)
    where = torch.isfinite(x0)
    w0 = torch.rand(5, 1, dtype=torch.float64, generator=generator)
    if avg_factor == "tensor":
        avg_factor = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0], dtype=torch.float64)
    results = []
    for ours in (True, False):
        x, y, w = (t.clone().requires_grad_() for t in (x0, y0, w0))
        if ours:
            loss = htorch.huber_loss(x, y, reduction, 0.7, w, axis=axis, where=where,
                                     avg_factor=avg_factor)  # fmt: skip
        else:
            loss = _masked_torch(x, y, w, where, reduction, axis, avg_factor)
        loss.sum().backward()
        results.append((loss, x.grad, y.grad, w.grad))
    for a, b in zip(*results, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-13, atol=1e-15)
    module = htorch.SmoothL1Loss(reduction="sum", beta=0.7)
    expected = _masked_torch(x0, y0, 1.0, where, "sum") / 0.7  # (smooth L1 = Huber / delta)
    torch.testing.assert_close(module(x0, y0, where=where), expected, rtol=1e-14, atol=0)


@ignore_torch_deprecation("torch.jit.script")
def test_where_and_weighted_mean_second_order():
    x, y = _pair(((4, 3), (4, 3)))
    where = torch.rand(4, 3, generator=torch.Generator().manual_seed(2)) > 0.3
    weight = torch.rand(4, 1, dtype=torch.float64, requires_grad=True)

    def loss(x, weight):
        return htorch.pseudo_huber_loss(x, y.detach(), "weighted_mean", 0.8, weight, axis=1,
                                        where=where)  # fmt: skip

    assert torch.autograd.gradcheck(loss, (x, weight), check_forward_ad=True)
    assert torch.autograd.gradgradcheck(loss, (x, weight))


def test_modules_take_a_weight_per_call():
    """``forward(input, target, weight)``: detection code changes its weights every batch; a
    module's own weight multiplies it; both get their gradients, as torch's would."""
    x, y = _pair(((5, 6), (5, 6)))
    per_call = torch.rand(5, 1, dtype=torch.float64, requires_grad=True)
    own = torch.rand(6, dtype=torch.float64)
    module = htorch.HuberLoss(delta=0.7, weight=own)
    module(x, y, per_call).backward()
    want_x, want_w = x.grad.clone(), per_call.grad.clone()
    x.grad, per_call.grad = None, None
    F.huber_loss(x, y, delta=0.7, weight=(own * per_call).expand(5, 6)).backward()
    torch.testing.assert_close(want_x, x.grad, rtol=1e-14, atol=0)
    torch.testing.assert_close(want_w, per_call.grad, rtol=1e-14, atol=0)
    plain = htorch.SmoothL1Loss(reduction="sum")
    torch.testing.assert_close(
        plain(x, y, per_call), (per_call * F.smooth_l1_loss(x, y, reduction="none")).sum()
    )


@pytest.mark.parametrize(
    ("ours", "theirs", "name"),
    [
        (htorch.SmoothL1Loss, torch.nn.SmoothL1Loss, "beta"),
        (htorch.HuberLoss, torch.nn.HuberLoss, "delta"),
    ],
)
def test_module_settings_are_read_at_each_call(ours, theirs, name):
    """As torch's modules: beta / delta annealing and fastai's ``loss_not_reduced`` (which
    assigns ``reduction = 'none'``) change what the next call computes."""
    mine, torchs = ours(), theirs()
    assert isinstance(mine, torch.nn.modules.loss._Loss)
    x = torch.linspace(-3.0, 3.0, 7, dtype=torch.float64, requires_grad=True)
    y = torch.zeros(7, dtype=torch.float64)
    for module in (mine, torchs):
        setattr(module, name, 4.0)
        module.reduction = "none"
    torch.testing.assert_close(mine(x, y), torchs(x, y), rtol=1e-15, atol=0)
    assert getattr(mine, name) == 4.0
    assert repr(mine) == f"{type(mine).__name__}(reduction='none', {name}=4.0)"
    # an invalid value raises and leaves the old one
    with pytest.raises(ValueError, match="avg is not a valid value for reduction"):
        mine.reduction = "avg"
    with pytest.raises(ValueError, match=f"`{name}` must be a"):
        setattr(mine, name, -1.0)
    assert mine.reduction == "none"
    assert getattr(mine, name) == 4.0
    mine.reduction = "sum"
    torchs.reduction = "sum"
    torch.testing.assert_close(mine(x, y), torchs(x, y), rtol=1e-15, atol=0)


def test_kept_gradient_survives_a_retained_graph():
    """Two backward passes through one graph (``retain_graph``) give the same gradients."""
    x = torch.linspace(-3.0, 3.0, 7, dtype=torch.float64, requires_grad=True)
    loss = htorch.huber_loss(x, torch.zeros(7, dtype=torch.float64), delta=0.5)
    first = torch.autograd.grad(loss, x, retain_graph=True)[0]
    second = torch.autograd.grad(loss, x)[0]
    torch.testing.assert_close(first, second, rtol=0, atol=0)
    torch.testing.assert_close(first, torch.clamp(x.detach(), -0.5, 0.5) / 7, rtol=1e-15, atol=0)


def test_training_loop_reaches_torchs_loss():
    """A small regression model trained with huberish's loss ends where torch's does."""

    def train(criterion):
        torch.manual_seed(0)
        features = torch.randn(256, 5)
        targets = features @ torch.randn(5, 1) + 0.1 * torch.randn(256, 1)
        targets[::17] += 8.0  # outliers: the linear regime matters
        model = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        for _ in range(200):
            optimizer.zero_grad()
            loss = criterion(model(features), targets)
            loss.backward()
            optimizer.step()
        return loss.item()

    ours = train(htorch.SmoothL1Loss(beta=0.5))
    theirs = train(torch.nn.SmoothL1Loss(beta=0.5))
    assert ours < 0.6  # it trained: the initial loss is above 1
    assert abs(ours - theirs) <= 1e-5 * theirs


# torch's inductor imports torch.utils.mkldnn, which warns about its own use of
# torch.jit.script_method (the same with torch's native HuberLoss; hidden outside pytest where it
# is a DeprecationWarning from a torch module). Every other warning fails this test.
@pytest.mark.slow
@ignore_torch_deprecation("torch.jit.script_method")
def test_torch_compile_inductor_training_step_without_graph_breaks_or_warnings():
    """A Linear + HuberLoss step under inductor, fullgraph: the same as eager, and no warning
    of huberish's own."""
    torch._dynamo.reset()
    features = torch.randn(16, 3, generator=torch.Generator().manual_seed(0))
    targets = features.sum(dim=1, keepdim=True)

    def run(compile_it):
        torch.manual_seed(0)
        model = torch.nn.Linear(3, 1)
        criterion = htorch.HuberLoss(delta=0.5)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

        def forward(x, y):
            return criterion(model(x), y)

        if compile_it:
            forward = torch.compile(forward, backend="inductor", fullgraph=True)
        losses = []
        for _ in range(3):
            optimizer.zero_grad()
            loss = forward(features, targets)
            loss.backward()
            optimizer.step()
            losses.append(loss.detach())
        return torch.stack(losses), model.weight.detach()

    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        compiled = run(compile_it=True)
    # torch's own, and Dynamo's note on each functools.lru_cache helper it traces (array-api-
    # compat's type checks and huberish's namespace predicates: pure; silencing the note takes
    # a private Dynamo registry, which the library does not use)
    torchs_own = (
        "`torch.jit.script_method` is deprecated",
        "Dynamo detected a call to a `functools.lru_cache`-wrapped function",
    )
    assert [str(w.message) for w in record if not str(w.message).startswith(torchs_own)] == []
    eager = run(compile_it=False)
    for got, want in zip(compiled, eager, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)


def test_torch_autograd_traces_through_the_generic_functions():
    """Without the adapter, torch autograd differentiates the generic kernel's operations."""
    import huberish as hb

    ours, theirs = [], []
    for function in (hb.smooth_l1_loss, F.smooth_l1_loss):
        x, y = _pair(((6, 4), (6, 4)))
        loss = function(x, y, beta=0.5)
        ours_or_theirs = ours if function is hb.smooth_l1_loss else theirs
        ours_or_theirs.append((loss, *torch.autograd.grad(loss, (x, y))))
    for a, b in zip(ours[0], theirs[0], strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize(
    ("function", "options"),
    [
        (htorch.pseudo_huber_loss, {"delta": 0.8}),
        (htorch.pseudo_huber_loss, {"delta": 0.8, "reduction": "sum", "axis": 1}),
        (htorch.smooth_l1_loss, {"beta": 0.6, "axis": (0,), "keepdims": True}),
        (htorch.huber_loss, {"delta": 0.6, "reduction": "sum", "axis": -1}),
    ],
)
def test_pseudo_huber_and_axis_gradcheck(function, options):
    x, y = _pair(((3, 4), (3, 4)))
    assert torch.autograd.gradcheck(lambda a, b: function(a, b, **options), (x, y))
    assert torch.autograd.gradgradcheck(lambda a, b: function(a, b, **options), (x, y))


def test_pseudo_huber_module_with_axis():
    crit = htorch.PseudoHuberLoss(delta=2.0, reduction="sum", axis=1)
    assert repr(crit) == "PseudoHuberLoss(reduction='sum', delta=2.0, axis=1, keepdims=False)"
    x, y = _pair(((3, 4), (3, 4)))
    per_row = crit(x, y)
    assert per_row.shape == (3,)
    per_row.sum().backward()
    d = (x - y).detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), d / np.sqrt(1 + (d / 2) ** 2), rtol=1e-12)


@pytest.mark.parametrize("kind", sorted(LOSSES))
def test_kept_gradient_with_retained_graph_and_grad_output(kind):
    """The first-order path (gradient kept by the forward, multiplied in place when the graph
    is freed): a retained graph gives the same gradients twice, as torch's; then 'none' with a
    random grad_output, and both operands' gradients."""
    ours, theirs, name = LOSSES[kind]
    results = []
    for function in (ours, theirs):
        x, y = _pair(((5, 3), (5, 3)))
        loss = function(x, y, **{name: 0.7})
        loss.backward(retain_graph=True)
        first = x.grad.clone()
        loss.backward(torch.tensor(2.0, dtype=loss.dtype))
        grad_output = torch.randn(5, 3, generator=torch.Generator().manual_seed(1))
        elements = function(x, y, reduction="none", **{name: 0.7})
        results.append((first, x.grad, *torch.autograd.grad(elements, (x, y), grad_output)))
    for got, want in zip(*results, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kind", sorted(LOSSES))
@pytest.mark.parametrize("negated", ["input", "target"])
def test_operands_with_the_negative_bit_set(kind, negated):
    """A lazily negated view (``z.conj().imag``, the negative bit set) has no NumPy view: the
    CPU forward that computes on NumPy views must fall back, not raise; values and both
    gradients as torch's native loss."""
    ours, theirs, name = LOSSES[kind]
    generator = torch.Generator().manual_seed(3)
    z = torch.randn(4, 5, dtype=torch.complex128, generator=generator) * 2
    plain = torch.randn(4, 5, dtype=torch.float64, generator=generator)
    results = []
    for function in (ours, theirs):
        lazy = z.conj().imag
        assert lazy.is_neg()
        x, y = (lazy, plain) if negated == "input" else (plain, lazy)
        x, y = x.detach().requires_grad_(), y.detach().requires_grad_()
        loss = function(x, y, **{name: 0.7})
        results.append((loss, *torch.autograd.grad(loss, (x, y))))
    for got, want in zip(*results, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kind", sorted(LOSSES))
def test_cuda_branches_on_fake_tensors(kind):
    """The generic kernel and the adapter's no-grad forward on CUDA tensors, without a GPU:
    torch's fake tensors (tests only) have a device and a shape but no data, so any step that
    read the data (a host synchronisation) would raise; the results stay on the device."""
    from torch._subclasses.fake_tensor import FakeTensor, FakeTensorMode

    import huberish as hb

    ours, _, name = LOSSES[kind]
    generic = getattr(hb, f"{kind}_loss_and_grad")
    hessian = getattr(hb, f"{kind}_loss_grad_hess")
    with FakeTensorMode():
        x = torch.empty(6, 4, device="cuda")
        y = torch.empty(6, 4, device="cuda")
        w = torch.empty(4, device="cuda", dtype=torch.float64)
        results = [
            *generic(x, y, weight=w, **{name: 0.5}),
            *hessian(x, y.to(torch.float16), axis=1, **{name: 0.5}),
            *getattr(hb, f"{kind}_loss_backward")(torch.empty((), device="cuda"), x, y),
        ]
        with torch.no_grad():
            results.append(ours(x, y, reduction="none", weight=w, **{name: 0.5}))
    for result in results:
        assert isinstance(result, FakeTensor)
        assert result.device == torch.device("cuda", 0)
    assert results[2].shape == (6,)  # reduced over axis 1
    assert results[-1].shape == (6, 4)


def test_batched_grad_outputs():
    """``torch.autograd.grad(..., is_grads_batched=True)`` (vmap over the backward) as torch's
    native loss: the kept gradient is multiplied out of place (in place, the commit before
    issue 18 raised vmap's in-place error here)."""
    x = torch.linspace(-3.0, 3.0, 7, dtype=torch.float64, requires_grad=True)
    y = torch.zeros(7, dtype=torch.float64)
    grad_outputs = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    results = [
        torch.autograd.grad(f(x, y, beta=0.5), x, grad_outputs, is_grads_batched=True)[0]
        for f in (htorch.smooth_l1_loss, torch.nn.functional.smooth_l1_loss)
    ]
    torch.testing.assert_close(results[0], results[1], rtol=1e-15, atol=0)


@pytest.mark.parametrize("weight", [2.0, 2, np.float64(2.0)], ids=["float", "int", "numpy"])
def test_scalar_weight_scales_the_gradients_too(weight):
    """A Python (or NumPy) scalar weight multiplies the gradient and the Hessian as it does
    the loss (the backward lost it: the gradient was the unweighted one; tester's find)."""
    x = torch.tensor([0.2, -3.0, 2.0], dtype=torch.float64, requires_grad=True)
    y = torch.zeros(3, dtype=torch.float64)
    htorch.smooth_l1_loss(x, y, weight=weight).backward()
    torch.testing.assert_close(x.grad, torch.autograd.grad(2.0 * F.smooth_l1_loss(x, y), x)[0])
    hessian = torch.func.hessian(lambda v: htorch.smooth_l1_loss(v, y, weight=weight))(x.detach())
    torch.testing.assert_close(
        hessian.diagonal(), torch.tensor([2.0 / 3, 0.0, 0.0], dtype=torch.float64)
    )


def _formula(kind, x, y, t):
    """Each loss written out with ``torch.where`` for a tensor threshold (torch refuses one;
    users write this: kohya sd-scripts PR #1628): the oracle torch's autograd differentiates."""
    d = x - y
    a = d.abs()
    if kind == "smooth_l1":
        return torch.where(a < t, 0.5 * d**2 / t, a - 0.5 * t)
    if kind == "huber":
        return torch.where(a < t, 0.5 * d**2, t * (a - 0.5 * t))
    return t**2 * (torch.sqrt(1 + (d / t) ** 2) - 1)


THRESHOLDS = {"smooth_l1": (htorch.smooth_l1_loss, "beta"), "huber": (htorch.huber_loss, "delta"),
              "pseudo_huber": (htorch.pseudo_huber_loss, "delta")}  # fmt: skip


@pytest.mark.parametrize("kind", THRESHOLDS)
@pytest.mark.parametrize(("reduction", "axis"), [(r, None) for r in REDUCTIONS] + [("mean", 1)])
@pytest.mark.parametrize("threshold_shape", [(5, 6), (6,), (5, 1), ()], ids=str)
def test_threshold_gets_its_gradient(kind, reduction, axis, threshold_shape):
    """A learnable threshold (issue 19): its gradient, with the input's, the target's and the
    weight's, as torch's autograd gives them for the formula written out."""
    ours, name = THRESHOLDS[kind]
    grads = []
    for function in ("ours", "formula"):
        x, y = _pair(((5, 6), (5, 6)))
        generator = torch.Generator().manual_seed(5)
        weight = torch.rand((5, 1), dtype=torch.float64, generator=generator).requires_grad_()
        t = 0.3 + 2 * torch.rand(threshold_shape, dtype=torch.float64, generator=generator)
        t.requires_grad_()
        if function == "ours":
            loss = ours(x, y, reduction=reduction, weight=weight, axis=axis, **{name: t})
        else:
            elements = weight * _formula(kind, x, y, t)
            reduce = {"mean": torch.mean, "sum": torch.sum}.get(reduction, lambda v, **_: v)
            loss = reduce(elements) if axis is None else reduce(elements, dim=axis)
        loss.sum().backward()
        grads.append((loss.detach(), t.grad, weight.grad, x.grad, y.grad))
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-13, atol=1e-15)


# (torch's forward-mode machinery scripts its own decompositions on first use)
@ignore_torch_deprecation("torch.jit.script")
# (Dynamo's note on each functools.lru_cache helper it traces, see the inductor test above;
# Dynamo's eager backend instantiates the autograd Function itself, which torch deprecates)
@pytest.mark.filterwarnings("ignore:Dynamo detected a call to a `functools.lru_cache`")
@pytest.mark.filterwarnings("ignore:<class 'torch.autograd.function.Function'> should not be")
@pytest.mark.parametrize("kind", THRESHOLDS)
def test_threshold_forward_mode_second_order_and_transforms(kind):
    """The threshold's tangent (forward mode), the mixed second derivatives (gradgradcheck),
    ``torch.func`` (jacfwd against jacrev, a vmap over thresholds against a loop) and
    ``torch.compile(fullgraph=True)``."""
    function, name = THRESHOLDS[kind]
    x, y = _pair(((4, 3), (4, 3)))
    t = (0.5 + torch.rand(3, dtype=torch.float64)).requires_grad_()

    def loss(x, t):
        return function(x, y.detach(), reduction="sum", **{name: t})

    assert torch.autograd.gradcheck(loss, (x, t), check_forward_ad=True)
    assert torch.autograd.gradgradcheck(loss, (x, t))
    by_forward = torch.func.jacfwd(loss, argnums=1)(x.detach(), t.detach())
    by_reverse = torch.func.jacrev(loss, argnums=1)(x.detach(), t.detach())
    torch.testing.assert_close(by_forward, by_reverse, rtol=1e-14, atol=1e-15)
    sweep = torch.tensor([0.3, 1.0, 2.5], dtype=torch.float64)
    swept = torch.func.vmap(torch.func.grad(lambda s: loss(x.detach(), s)))(sweep)
    for s, g in zip(sweep, swept, strict=True):
        torch.testing.assert_close(g, torch.func.grad(lambda s: loss(x.detach(), s))(s))
    compiled = torch.compile(loss, fullgraph=True, backend="eager")
    got = torch.autograd.grad(compiled(x, t), (x, t))
    want = torch.autograd.grad(loss(x, t), (x, t))
    for a, b in zip(got, want, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-14, atol=1e-15)


@pytest.mark.filterwarnings("ignore:Dynamo detected a call to a `functools.lru_cache`")
@pytest.mark.filterwarnings("ignore:<class 'torch.autograd.function.Function'> should not be")
@pytest.mark.parametrize("no_grad", [False, True], ids=["plain", "no_grad"])
@pytest.mark.parametrize("kind", THRESHOLDS)
def test_torch_compile_without_a_gradient_needed(kind, no_grad):
    """``torch.compile(fullgraph=True)`` of a call whose operands need no gradient (an
    evaluation loop), where Dynamo calls the Function's forward itself: the loss of the
    float64 reference, with and without ``torch.no_grad``."""
    function, name = THRESHOLDS[kind]
    x, y = (v.detach() for v in _pair(((4, 3), (4, 3))))
    torch._dynamo.reset()  # (tests may use Dynamo's internals)
    compiled = torch.compile(
        lambda a, b: function(a, b, reduction="sum", **{name: 0.5}), fullgraph=True, backend="eager"
    )
    with torch.no_grad() if no_grad else contextlib.nullcontext():
        got = compiled(x, y)
    scale = 0.5 if kind == "huber" else 1.0  # (Huber: delta * smooth_l1(beta=delta))
    want, _, _ = reference(
        x.numpy(),
        y.numpy(),
        beta=0.5,
        scale=scale,
        reduction="sum",
        pseudo_huber=kind == "pseudo_huber",
    )
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-14)


def test_module_with_a_learnable_delta():
    """A module built with a Parameter threshold trains it: an optimizer step on delta moves it
    as the formula's gradient says; an invalid delta raises at the call."""
    delta = torch.nn.Parameter(torch.full((6,), 0.5, dtype=torch.float64))
    module = htorch.HuberLoss(delta=delta)
    x, y = _pair(((5, 6), (5, 6)))
    module(x, y).backward()
    want = torch.autograd.grad(_formula("huber", x, y, delta).mean(), delta)[0]
    torch.testing.assert_close(delta.grad, want, rtol=1e-13, atol=1e-15)
    with pytest.raises(ValueError, match="`delta` must be positive everywhere"):
        htorch.HuberLoss(delta=-delta.detach())(x, y)


def test_module_threshold_assignment_registers_a_parameter():
    """Assigning a Parameter to a module's threshold goes through its validation (torch's
    __setattr__ raised KeyError), registers it as the module's parameter `threshold` (the
    optimiser finds it, ``.to()`` converts it in place); an invalid tensor raises and leaves
    the old one; a number unregisters it."""
    module = htorch.SmoothL1Loss(beta=1.0)
    beta = torch.nn.Parameter(torch.tensor([0.5, 2.0]))
    module.beta = beta
    assert module.beta is beta
    assert dict(module.named_parameters()) == {"threshold": beta}
    module.to(torch.float64)
    assert module.beta is beta
    assert beta.dtype == torch.float64
    with pytest.raises(ValueError, match="`beta` must be non-negative everywhere"):
        module.beta = torch.tensor([-1.0, 1.0])
    assert module.beta is beta
    x, y = _pair(((3, 2), (3, 2)))
    module(x, y).backward()
    want = torch.autograd.grad(_formula("smooth_l1", x, y, beta).mean(), beta)[0]
    torch.testing.assert_close(beta.grad, want, rtol=1e-13, atol=1e-15)
    module.beta = 0.5
    assert dict(module.named_parameters()) == {}


def test_module_reads_its_learnable_threshold_as_torch_sets_it():
    """The module's parameter `threshold` is what it computes with, however torch replaces it:
    ``torch.func.functional_call`` (with its gradient), ``load_state_dict(assign=True)`` and a
    parametrization (the usual way to keep a learned delta positive)."""
    x, y = _pair(((3, 2), (3, 2)))
    x, y = x.detach(), y.detach()
    other = torch.tensor([3.0, 4.0], dtype=torch.float64)

    def fresh():
        return htorch.HuberLoss(
            delta=torch.nn.Parameter(torch.tensor([0.5, 2.0], dtype=torch.float64))
        )

    want = _formula("huber", x, y, other).mean()
    module = fresh()
    swapped = torch.func.functional_call(module, {"threshold": other}, (x, y))
    torch.testing.assert_close(swapped, want)
    got = torch.func.grad(lambda p: torch.func.functional_call(module, p, (x, y)))(
        {"threshold": other}
    )
    wanted = torch.func.grad(lambda t: _formula("huber", x, y, t).mean())(other)
    torch.testing.assert_close(got["threshold"], wanted)
    module = fresh()
    module.load_state_dict({"threshold": other}, assign=True)
    torch.testing.assert_close(module(x, y), want)
    assert module.delta is module.threshold

    class Double(torch.nn.Module):
        def forward(self, z):
            return 2 * z

    module = fresh()
    torch.nn.utils.parametrize.register_parametrization(module, "threshold", Double())
    doubled = 2 * torch.tensor([0.5, 2.0], dtype=torch.float64)
    torch.testing.assert_close(module(x, y), _formula("huber", x, y, doubled).mean())
    module.reduction = "sum"  # (other settings stay assignable)
    torch.testing.assert_close(module(x, y), _formula("huber", x, y, doubled).sum())
    with pytest.raises(ValueError, match="threshold is parametrized"):
        module.delta = 3.0
    torch.testing.assert_close(module.delta, doubled)


def test_bfloat16_threshold_with_a_graph():
    """A bfloat16 threshold (NumPy has no bfloat16: the fast path is not taken) is computed in
    float32 from its rounded entries, with its gradient."""
    x = torch.tensor([0.5, 2.0, -3.0], requires_grad=True)
    delta = torch.tensor([1.0, 0.5, 2.0], dtype=torch.bfloat16, requires_grad=True)
    htorch.huber_loss(x, torch.zeros(3), delta=delta, reduction="sum").backward()
    d32 = delta.detach().float().requires_grad_()
    x32 = x.detach().clone().requires_grad_()
    _formula("huber", x32, torch.zeros(3), d32).sum().backward()
    torch.testing.assert_close(x.grad, x32.grad)
    torch.testing.assert_close(delta.grad, d32.grad.to(torch.bfloat16))


def test_no_numpy_views_of_functionalized_tensors():
    """``torch.func.functionalize``'s wrappers have a storage without data: a NumPy view of
    one reads whatever memory is there (a tester's find, through the evaluation shortcut)."""
    seen = []

    def f(a):
        seen.append(htorch._numpy_views(a))
        return a.sum()

    torch.func.functionalize(f)(torch.ones(3))
    assert seen == [None]
    assert htorch._numpy_views(torch.ones(3)) is not None
