"""The kernel over cache-sized blocks of large NumPy operands, on all cores.

Evaluating the kernel on a whole array makes each of its operations a pass over main memory.
Here each block's temporaries stay in cache: the operands are read once, the gradient is written
once, into a freshly allocated array, and the peak extra memory is that array plus a few blocks
per thread. Tasks of blocks are shared among threads (NumPy releases the GIL in its loops);
their partial loss sums are combined in task order, so the result does not depend on the number
of threads.
"""

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from ._compat import Array
from ._validate import Request

__all__ = ["BLOCK_BYTES", "MIN_SIZE", "TASK", "evaluate", "threads"]

BLOCK_BYTES = 1 << 17
"""Bytes per block and operand: the ~6 blocks in flight fit in a 1 MiB L2 cache (measured best
on an AMD EPYC with 1 MiB L2 per core: 2**15 float32 or 2**14 float64 elements)."""
TASK = 16
"""Blocks per task: a thread's unit of work, and one partial sum of the loss."""
MIN_SIZE = 1 << 17
"""Elements below which the whole-array kernel is as fast."""
_MIN_SIZE_PER_THREAD = 1 << 20

TermsFunction = Callable[..., Any]
_executor: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def threads() -> int:
    """Threads to use: ``HUBERISH_NUM_THREADS`` if set, else the cores this process may use."""
    setting = os.environ.get("HUBERISH_NUM_THREADS", "").strip()
    if setting and setting.lower() != "auto":  # unset, empty or "auto": the cores
        try:
            return max(1, int(setting))
        except ValueError:
            msg = f"`HUBERISH_NUM_THREADS` must be an integer or 'auto'; got {setting!r}."
            raise ValueError(msg) from None
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def evaluate(
    request: Request, grad_output: Any, loss: bool, grad: bool, terms: TermsFunction
) -> tuple[Array | None, Array | None, None]:
    """`terms` over blocks: the partial loss sums (or, for 'none', the element losses), the
    gradient, and no Hessian.

    `request` has same-shape NumPy operands of one dtype (`huberish._core` checks). Tasks are
    fixed runs of `TASK` blocks, each summing its losses into one accumulator, so the partial
    sums (and the result) are the same whichever thread runs which task.
    """
    xp, n, shape = request.xp, request.size, request.shape
    dtype = request.input.dtype
    block = BLOCK_BYTES * 8 // xp.finfo(dtype).bits
    x, y = xp.reshape(request.input, (-1,)), xp.reshape(request.target, (-1,))
    w = request.weight  # None, a Python float, or an array of the operands' shape
    w = xp.reshape(w, (-1,)) if w is not None and not isinstance(w, float) else w
    keep_elements = loss and request.reduction == "none"
    element_loss: Array = xp.empty(n, dtype=dtype) if keep_elements else None
    gradient: Array = xp.empty(n, dtype=dtype) if grad else None
    span = block * TASK

    def task(start: int) -> Any:
        with np.errstate(all="ignore"):  # (per thread: see `huberish._core.evaluate`)
            return _task(start)

    def _task(start: int) -> Any:
        total = None
        for lo in range(start, min(start + span, n), block):
            hi = min(lo + block, n)
            weight = w[lo:hi] if w is not None and not isinstance(w, float) else w
            terms_loss, terms_grad, _ = terms(
                x[lo:hi] - y[lo:hi], request, weight, grad_output, loss, grad
            )
            if terms_grad is not None:
                gradient[lo:hi] = terms_grad
            if keep_elements:
                element_loss[lo:hi] = terms_loss
            elif terms_loss is not None:
                if total is None:
                    total = terms_loss  # ours: accumulate into it
                else:
                    total[: hi - lo] += terms_loss
        return None if total is None else xp.sum(total)

    starts = range(0, n, span)
    workers = min(threads(), max(1, n // _MIN_SIZE_PER_THREAD), len(starts))
    partial = list(map(task, starts)) if workers == 1 else list(_pool().map(task, starts))
    gradient = None if gradient is None else xp.reshape(gradient, shape)
    if loss and not keep_elements:
        return xp.stack(partial), gradient, None
    return (None if element_loss is None else xp.reshape(element_loss, shape)), gradient, None


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=threads(), thread_name_prefix="huberish")
        return _executor
