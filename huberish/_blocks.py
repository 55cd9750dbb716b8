"""The kernel over cache-sized blocks of large NumPy operands, on all cores.

Evaluating the kernel on a whole array makes each of its operations a pass over main memory.
Here each block's temporaries stay in cache: the operands are read once, the gradient is written
once, into a freshly allocated array, and the peak extra memory is that array plus a few blocks
per thread. A block is half the L2 cache of a core (`block_bytes`), and at most two
block temporaries are alive at a time, each released before the next block's are made (more of
them made glibc return memory to the kernel and fault it back: ~17% of a 1e7 call). Tasks of
blocks are shared among threads (NumPy releases the GIL in its loops); the per-block loss sums
are combined in block order, so the result does not depend on the number of threads.
"""

import functools
import os
import pathlib
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

from ._compat import Array, Namespace, overflow_unwarned
from ._terms import Coefficients, summed_terms, weighted_terms

__all__ = [
    "MIN_SIZE",
    "TASK_BYTES",
    "BlockedResult",
    "block_bytes",
    "bytes_per_block",
    "evaluate",
    "threads",
]

TASK_BYTES = 1 << 21
"""Bytes per task and operand: a thread's unit of work (several blocks)."""
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


def bytes_per_block(l2_bytes: int | None) -> int:
    """Bytes per block and operand for a core's L2 cache of `l2_bytes` (None: unknown).

    Half the L2 cache, rounded down to a power of two, from 64 KiB to 1 MiB; 512 KiB when
    unknown. Measured (1e7 elements, 1 MiB L2, two threads, wall time over the floor): float32
    2.27x at an eighth of the L2, 1.70x at a quarter, 1.58x at a half, 1.51x at all of it;
    float64 2.51x, 1.80x, 1.60x, 1.65x. Each block costs Python dispatch that holds the GIL
    (so the threads queue for it); blocks as large as the L2 lose their cache residency.
    """
    if l2_bytes is None or l2_bytes <= 0:
        return 1 << 19
    return 1 << min(20, max(16, (l2_bytes // 2).bit_length() - 1))


@functools.cache
def block_bytes() -> int:
    """`bytes_per_block` of this machine's L2 cache, read once."""
    return bytes_per_block(_cache_bytes(level=2))


def _cache_bytes(
    level: int, root: pathlib.Path = pathlib.Path("/sys/devices/system/cpu/cpu0/cache")
) -> int | None:
    """cpu0's data or unified cache of `level` in bytes, from Linux's sysfs; None elsewhere.

    (``os.sysconf`` has no cache sizes in CPython; macOS and Windows take the fallback.)
    """
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    try:
        indices = sorted(root.glob("index*"))
    except OSError:
        return None
    for index in indices:
        try:
            if int((index / "level").read_text()) != level:
                continue
            if (index / "type").read_text().strip() not in ("Data", "Unified"):
                continue
            size = (index / "size").read_text().strip()  # e.g. "1024K"
            return int(size[:-1]) * units[size[-1]] if size[-1:] in units else int(size)
        except (OSError, ValueError, IndexError):
            continue
    return None


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
    be a Python float); `grad_output` is a Python scalar or 0-d (`huberish._core` checks). Tasks
    are fixed runs of blocks; each block's loss is summed on its own
    (`huberish._terms.summed_terms` when there is no weight and no `grad_output`), and the block
    sums are added in block order, so the total is the same whichever thread runs which task.
    """
    shape, dtype = tuple(input.shape), input.dtype
    n = input.size
    bytes_per_element = xp.finfo(dtype).bits // 8
    block = block_bytes() // bytes_per_element
    x, y = xp.reshape(input, (-1,)), xp.reshape(target, (-1,))
    w = weight if weight is None or isinstance(weight, float) else xp.reshape(weight, (-1,))
    keep_elements = loss and keep_elements
    element_loss: Array = xp.empty(n, dtype=dtype) if keep_elements else None
    gradient: Array = xp.empty(n, dtype=dtype) if grad else None
    span = block * max(1, TASK_BYTES // (block * bytes_per_element))
    summed = loss and not keep_elements and w is None and grad_output is None

    def task(start: int) -> list[Array]:
        # (inf beyond the range, NaN for inf - inf: silently, as in torch; NumPy's error state
        # is per thread, so each task enters it)
        with overflow_unwarned(xp):
            return _task(start)

    def _task(start: int) -> list[Array]:
        sums = []
        for lo in range(start, min(start + span, n), block):
            hi = min(lo + block, n)
            d = x[lo:hi] - y[lo:hi]
            if summed:
                out = gradient[lo:hi] if grad else None
                total, g = summed_terms(d, coefficients=coefficients, grad=grad, xp=xp, out=out)
                sums.append(total)
                g = None if g is out else g  # (written already)
            else:
                total, g, _ = weighted_terms(
                    d,
                    w if w is None or isinstance(w, float) else w[lo:hi],
                    grad_output,
                    coefficients=coefficients,
                    loss=loss,
                    grad=grad,
                    xp=xp,
                )
                if keep_elements:
                    element_loss[lo:hi] = total
                elif total is not None:
                    sums.append(xp.sum(total))
            if g is not None:
                gradient[lo:hi] = g
            del d, g, total  # at most two block temporaries alive
        return sums

    starts = range(0, n, span)
    workers = min(threads(), max(1, n // _MIN_SIZE_PER_THREAD), len(starts))
    tasks = map(task, starts) if workers == 1 else _pool().map(task, starts)
    partial = [total for sums in tasks for total in sums]
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
