"""The models' worker processes (SPEC §6; docs/models.md, "Bounded cost"): joblib's reusable
loky executor of ``models.n_jobs`` processes, shared by every fit sent out of the main process
(the departure study's fold fits, the integration study's backward-removal candidates), and
stopped by :func:`release_workers` once an asset has fit what it fits. Every fit is seeded: a
model does not depend on the process it was fit in."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from typing import Any

from joblib.externals.loky import get_reusable_executor

#: Set once :func:`executor` has started the worker processes in this process.
_STARTED = threading.Event()
#: Set while :func:`kept` holds the worker processes for the assets run in this process.
_KEPT = threading.Event()


def executor(n_jobs: int) -> Executor:
    """The worker processes (``n_jobs``), started when they are not running."""
    _STARTED.set()
    return get_reusable_executor(max_workers=n_jobs)


def release_workers(kept_too: bool = False) -> None:
    """Stop the fits' worker processes, once an asset has fit what it fits (every window of a
    run of ``departure_models``, the integration study's regressions): idle, they would hold
    about 230 MB each until their idle timeout (300 s), through the rest of the main job
    (docs/scale.md), and a Dagster step worker's exit would wait for it. Inside :func:`kept`,
    they stay until it ends, unless ``kept_too`` (an asset whose own peak leaves no room for
    them)."""
    if _STARTED.is_set() and (kept_too or not _KEPT.is_set()):
        get_reusable_executor().shutdown(wait=True)
        _STARTED.clear()


@contextmanager
def kept() -> Iterator[None]:
    """Keep the worker processes from one asset to the next while the assets run one after
    another in this process (``migrant-assets demo``): each model asset would otherwise start
    them anew (1.5 s of the main job each, docs/scale.md). Stopped when it ends."""
    _KEPT.set()
    try:
        yield
    finally:
        _KEPT.clear()
        release_workers()


def submit(fn: Callable[..., Any], args: tuple, n_jobs: int) -> Future:
    """``fn(*args)`` in a worker process when ``n_jobs`` > 1 (``fn`` and its arguments pickled
    there; the caller goes on meanwhile), else here, now: its future either way."""
    if n_jobs > 1:
        return executor(n_jobs).submit(fn, *args)
    done: Future = Future()
    done.set_result(fn(*args))
    return done


def map_in_workers(fn: Callable[..., Any], calls: Sequence[tuple], n_jobs: int) -> list[Any]:
    """``fn(*args)`` of each ``args`` of ``calls``, in order: side by side in ``n_jobs``
    worker processes when there are several calls (:func:`submit`), else one after the other
    here."""
    if len(calls) <= 1:
        n_jobs = 1
    futures = [submit(fn, args, n_jobs) for args in calls]
    try:
        return [future.result() for future in futures]
    finally:  # a failed call: what is not started is not run
        for future in futures:
            future.cancel()
