"""One progress-bar task for a step of an export or import (nothing is shown without a Progress)."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import Progress


@contextmanager
def task(progress: Progress | None, label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """Yields `advance(n)`; a no-op when there is no progress bar."""
    found = progress.add_task(label, total=total) if progress is not None else None

    def advance(n: int) -> None:
        if progress is not None and found is not None:
            progress.advance(found, n)

    yield advance
