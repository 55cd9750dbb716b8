"""The public surface is what docs/api.md lists (and `__version__`); each module has `__all__`."""

import importlib
import inspect
import pkgutil

import huberish

PUBLIC = {
    "HuberLoss",
    "LossAndGrad",
    "LossGradHess",
    "Objective",
    "PseudoHuberLoss",
    "SmoothL1Loss",
    "__version__",
    "huber_loss",
    "huber_loss_and_grad",
    "huber_loss_backward",
    "huber_loss_grad_hess",
    "huber_objective",
    "pseudo_huber_loss",
    "pseudo_huber_loss_and_grad",
    "pseudo_huber_loss_backward",
    "pseudo_huber_loss_grad_hess",
    "pseudo_huber_objective",
    "resolve_reduction",
    "smooth_l1_loss",
    "smooth_l1_loss_and_grad",
    "smooth_l1_loss_backward",
    "smooth_l1_loss_grad_hess",
    "smooth_l1_objective",
}


def test_all_is_the_documented_api():
    assert set(huberish.__all__) == PUBLIC
    assert all(hasattr(huberish, name) for name in huberish.__all__)


def test_every_module_lists_its_public_names():
    for info in pkgutil.iter_modules(huberish.__path__):
        if info.name in ("__main__", "torch", "jax"):
            continue  # entry point, and adapters that import optional frameworks
        module = importlib.import_module(f"huberish.{info.name}")
        assert module.__doc__, info.name
        defined = {
            name
            for name, obj in vars(module).items()
            if not name.startswith("_")
            and (inspect.isfunction(obj) or inspect.isclass(obj))
            and obj.__module__ == module.__name__
        }
        assert defined <= set(module.__all__), (info.name, defined - set(module.__all__))


def test_public_functions_take_keyword_only_xp():
    """Every function that takes arrays; the objectives' factories take settings only (their
    objects take the arrays, in the boosters' signature)."""
    for name in huberish.__all__:
        obj = getattr(huberish, name)
        takes_arrays = name != "resolve_reduction" and not name.endswith("_objective")
        if inspect.isfunction(obj) and takes_arrays:
            parameter = inspect.signature(obj).parameters["xp"]
            assert parameter.kind is inspect.Parameter.KEYWORD_ONLY, name
