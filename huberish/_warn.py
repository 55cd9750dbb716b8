"""Warnings that point at the user's code, however deep inside huberish they are raised."""

import sys
import warnings

__all__ = ["warn"]

# Frames to look through: huberish itself, and the framework machinery between a user's call
# and huberish (autograd functions, module calls, JAX tracing).
_SKIPPED = ("huberish", "torch.autograd", "torch.nn.modules", "jax", "jaxlib")


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """Emit `message` with the stack level of the first frame outside huberish."""
    # Python 3.12 has `skip_file_prefixes`; on 3.11 walk the stack ourselves.
    level, frame = 2, sys._getframe(1)
    while frame is not None and _skipped(frame.f_globals.get("__name__", "")):
        level, frame = level + 1, frame.f_back  # type: ignore[assignment]
    warnings.warn(message, category, stacklevel=level)


def _skipped(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in _SKIPPED)
