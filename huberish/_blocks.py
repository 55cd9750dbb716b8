"""The kernel over cache-sized blocks of large NumPy operands, on all cores.

Evaluating the kernel on a whole array makes each of its operations a pass over main memory.
Here each block's temporaries stay in cache: the operands are read once, the gradient is written
once, into a freshly allocated array, and the peak extra memory is that array plus a few blocks
per thread. A block is half the L2 cache of a core (`block_bytes`), and at most two
block temporaries are alive at a time, each released before the next block's are made (more of
them made glibc return memory to the kernel and fault it back: benchmarks/NOTES.md, 1.1). Tasks of
blocks are shared among threads (NumPy releases the GIL in its loops); the per-block loss sums
are combined in block order, so the result does not depend on the number of threads.
"""

import functools
import os
import pathlib
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

from ._compat import Array, Namespace, is_numpy_namespace, overflow_unwarned
from ._losses import Coefficients, weighted_terms

if TYPE_CHECKING:
    from ._kernel import Request

__all__ = [
    "MIN_SIZE",
    "MIN_SIZE_PER_THREAD",
    "TASK_BYTES",
    "block_bytes",
    "bytes_per_block",
    "evaluate",
    "takes",
    "threads",
    "total",
    "workers",
]

TASK_BYTES = 1 << 21
"""Bytes per task and operand: a thread's unit of work (several blocks)."""
MIN_SIZE = 1 << 17
"""Elements below which the whole-array kernel is as fast."""
MIN_SIZE_PER_THREAD = 1 << 20
"""Elements per thread below which fewer threads are used."""

_pool_of: tuple[int, ThreadPoolExecutor] | None = None
"""The thread count and the pool of `_pool`."""
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


def bytes_per_block(l2_bytes: int | None) -> int:
    """Bytes per block and operand for a core's L2 cache of `l2_bytes` (None: unknown).

    Half the L2 cache, rounded down to a power of two, from 64 KiB to 1 MiB; 512 KiB when
    unknown (measured: benchmarks/NOTES.md, section 1.4).
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


def takes(request: "Request[Any]") -> bool:
    """Whether `evaluate` takes this request: large, unbroadcast NumPy operands of one dtype, a
    loss over all axes, a scalar `grad_output` if any."""
    grad_output, weight = request.grad_output, request.weight
    return (
        request.size >= MIN_SIZE
        and request.reduction != "weighted_mean"
        and request.where is None
        and request.avg_factor is None
        and isinstance(request.coefficients.beta, float)
        and is_numpy_namespace(request.xp)
        and request.axis is None
        and request.input_shape == request.target_shape == request.shape
        and request.input.dtype == request.target.dtype
        and (weight is None or isinstance(weight, float) or tuple(weight.shape) == request.shape)
        and (grad_output is None or isinstance(grad_output, int | float) or grad_output.ndim == 0)
    )


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
) -> tuple[Array | None, Array | None]:
    """`huberish._losses.weighted_terms` over blocks: the loss and the per-element gradient.

    The loss is the sum of the (weighted, 'mean'-divided) element losses, 0-d; or, with
    `keep_elements`, the element losses themselves. `input`, `target` and `weight` are NumPy
    arrays of one shape and dtype (`weight` may also be a Python float); `grad_output` is a
    Python scalar or 0-d (see `takes`). Each block's loss is summed on its own (`total`),
    and the block sums are added in block order, so the total is the same whichever thread
    runs which block, on every CPU.
    """
    shape, dtype = tuple(input.shape), input.dtype
    n = input.size
    bytes_per_element = dtype.itemsize
    block = block_bytes() // bytes_per_element
    x, y = np.reshape(input, (-1,)), np.reshape(target, (-1,))
    w = weight if weight is None or isinstance(weight, float) else np.reshape(weight, (-1,))
    keep_elements = loss and keep_elements
    element_loss: Array = np.empty(n, dtype=dtype) if keep_elements else None
    gradient: Array = np.empty(n, dtype=dtype) if grad else None
    span = block * max(1, TASK_BYTES // (block * bytes_per_element))

    def task(start: int) -> list[Array]:
        sums = []
        # (inf beyond the range, NaN for inf - inf: silently, as in torch; NumPy's error state
        # is per thread, so each task enters it)
        with overflow_unwarned(np):
            for lo in range(start, min(start + span, n), block):
                hi = min(lo + block, n)
                losses, g, *_ = weighted_terms(
                    x[lo:hi] - y[lo:hi],
                    w if w is None or isinstance(w, float) else w[lo:hi],
                    grad_output,
                    coefficients=coefficients,
                    loss=loss,
                    grad=grad,
                    xp=np,
                )
                if keep_elements:
                    element_loss[lo:hi] = losses
                elif losses is not None:
                    sums.append(total(losses, xp=np))
                if g is not None:
                    gradient[lo:hi] = g
                del g, losses  # at most two block temporaries alive
        return sums

    starts = range(0, n, span)
    count = workers(n, len(starts))
    tasks = map(task, starts) if count == 1 else _pool(count).map(task, starts)
    partial = [block_sum for sums in tasks for block_sum in sums]
    gradient = None if gradient is None else np.reshape(gradient, shape)
    if keep_elements:
        return np.reshape(element_loss, shape), gradient
    return (total(np.stack(partial), xp=np) if loss else None), gradient


def total(
    x: Array,
    *,
    axis: int | tuple[int, ...] | None = None,
    keepdims: Any = False,  # (a bool: NumPy's stubs take only a literal one)
    xp: Namespace,
) -> Array:
    """``xp.sum(x, axis=axis, keepdims=keepdims)``; a NumPy float32 array's accumulated in
    float64, then rounded to float32 (inf beyond its range: call it where NumPy's overflow
    warnings are off, `huberish._compat.overflow_unwarned`).

    A float32 sum of many equal terms errs by several float32 roundings, pairwise (NumPy's,
    over all axes), by a BLAS dot product (whose order also depends on the CPU) and most of all
    along an outer axis (NumPy adds its rows one after another); accumulated in float64 it errs
    by far less than the result's own rounding, the same on every CPU, at a measured cost
    (benchmarks/NOTES.md, section 10).
    """
    if type(x) is not np.ndarray:
        return xp.sum(x, axis=axis, keepdims=keepdims)
    # (`np.add.reduce`: `numpy.sum` without its Python wrapper, which costs a small call)
    if x.dtype != np.float32:
        return np.add.reduce(x, axis=axis, keepdims=keepdims)
    return np.add.reduce(x, axis=axis, dtype=np.float64, keepdims=keepdims).astype(np.float32)


def workers(size: int, tasks: int) -> int:
    """Threads for `tasks` tasks over `size` elements: `threads()`, but at most one per task
    and per `MIN_SIZE_PER_THREAD` elements (a thread's start-up costs what it would save)."""
    return min(threads(), max(1, size // MIN_SIZE_PER_THREAD), tasks)


def _pool(count: int) -> ThreadPoolExecutor:
    """A pool of `count` threads, made anew when the count asked for changes."""
    global _pool_of
    with _lock:
        if _pool_of is None or _pool_of[0] != count:
            if _pool_of is not None:
                _pool_of[1].shutdown(wait=False)
            _pool_of = count, ThreadPoolExecutor(max_workers=count, thread_name_prefix="huberish")
        return _pool_of[1]
