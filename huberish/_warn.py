"""Warnings that point at the user's code, however deep inside huberish they are raised."""

import os
import sys
import warnings

__all__ = ["warn"]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """Emit `message` with the stack level of the first frame outside huberish."""
    # Python 3.12 has `skip_file_prefixes`; on 3.11 walk the stack ourselves.
    level, frame = 2, sys._getframe(1)
    while frame is not None and os.path.dirname(frame.f_code.co_filename) == _PACKAGE_DIR:
        level, frame = level + 1, frame.f_back  # type: ignore[assignment]
    warnings.warn(message, category, stacklevel=level)
