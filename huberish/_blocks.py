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
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

from ._compat import Array, Namespace, overflow_unwarned
from ._terms import Coefficients, weighted_terms

__all__ = ["BLOCKS_PER_TASK", "BLOCK_BYTES", "MIN_SIZE", "BlockedResult", "evaluate", "threads"]

BLOCK_BYTES = 1 << 17
"""Bytes per block and operand: the ~6 blocks in flight fit in a 1 MiB L2 cache (measured best
on an AMD EPYC with 1 MiB L2 per core: 2**15 float32 or 2**14 float64 elements)."""
BLOCKS_PER_TASK = 16
"""Blocks per task: a thread's unit of work, and one partial sum of the loss."""
MIN_SIZE = 1 << 17
"""Elements below which the whole-array kernel is as fast."""
_MIN_SIZE_PER_THREAD = 1 << 20

_executor: ThreadPoolExecutor | None = None
_lock = threading.Lock()


class BlockedResult(NamedTuple):
    """The loss and the per-element gradient of a blocked evaluation; None where not asked."""

    loss: Array | None
    """The sum of the (weighted, 'mean'-divided) element losses, 0-d; or, with
    ``keep_elements``, the element losses themselves, with the operands' shape."""
    grad: Array | None
    """The per-element gradient (times the weight and `grad_output`), with the operands' shape."""


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
    input: Array,
    target: Array,
    weight: Array | float | None,
    grad_output: Array | float | None,
    *,
    coefficients: Coefficients,
    loss: bool,
    grad: bool,
    keep_elements: bool,
    xp: Namespace,
) -> BlockedResult:
    """`huberish._terms.weighted_terms` over blocks: the loss (summed, or the element losses
    with `keep_elements`) and the per-element gradient.

    `input`, `target` and `weight` are NumPy arrays of one shape and dtype (`weight` may also
    be a Python float); `grad_output` is a
    Python scalar or 0-d (`huberish._core` checks). Tasks are fixed runs of `BLOCKS_PER_TASK`
    blocks, each summing its losses into one accumulator, so the partial sums (and the total)
    are the same whichever thread runs which task.
    """
    shape, dtype = tuple(input.shape), input.dtype
    n = input.size
    block = BLOCK_BYTES * 8 // xp.finfo(dtype).bits
    x, y = xp.reshape(input, (-1,)), xp.reshape(target, (-1,))
    w = weight if weight is None or isinstance(weight, float) else xp.reshape(weight, (-1,))
    keep_elements = loss and keep_elements
    element_loss: Array = xp.empty(n, dtype=dtype) if keep_elements else None
    gradient: Array = xp.empty(n, dtype=dtype) if grad else None
    span = block * BLOCKS_PER_TASK

    def task(start: int) -> Array | None:
        # (inf beyond the range, NaN for inf - inf: silently, as in torch; NumPy's error state
        # is per thread, so each task enters it)
        with overflow_unwarned(xp):
            return _task(start)

    def _task(start: int) -> Array | None:
        total = None
        for lo in range(start, min(start + span, n), block):
            hi = min(lo + block, n)
            terms = weighted_terms(
                x[lo:hi] - y[lo:hi],
                w if w is None or isinstance(w, float) else w[lo:hi],
                grad_output,
                coefficients=coefficients,
                loss=loss,
                grad=grad,
                xp=xp,
            )
            if terms.grad is not None:
                gradient[lo:hi] = terms.grad
            if keep_elements:
                element_loss[lo:hi] = terms.loss
            elif terms.loss is not None:
                if total is None:
                    total = terms.loss  # ours: accumulate into it
                else:
                    total[: hi - lo] += terms.loss
        return None if total is None else xp.sum(total)

    starts = range(0, n, span)
    workers = min(threads(), max(1, n // _MIN_SIZE_PER_THREAD), len(starts))
    partial = list(map(task, starts)) if workers == 1 else list(_pool().map(task, starts))
    gradient = None if gradient is None else xp.reshape(gradient, shape)
    if keep_elements:
        return BlockedResult(xp.reshape(element_loss, shape), gradient)
    return BlockedResult(xp.sum(xp.stack(partial)) if loss else None, gradient)


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=threads(), thread_name_prefix="huberish")
        return _executor
