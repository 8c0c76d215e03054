"""Filters over a closed set of ``cucu.vocabulary``, for a page's row of filters."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol, TypeVar


class _Labelled(Protocol):
    @property
    def label(self) -> str: ...


_M = TypeVar("_M", bound=_Labelled, covariant=True)


class _ClosedSet(Protocol[_M]):
    """A StrEnum of ``cucu.vocabulary``: its members, and the member of a value."""

    def __iter__(self) -> Iterator[_M]: ...

    def __call__(self, value: Any) -> _M: ...


def set_filter(
    container: Any, label: str, kind: _ClosedSet[_M], *, key: str, placeholder: str, on_change: Callable[[], None] | None = None
) -> list[_M]:
    """A multiselect over every member of ``kind``, each shown by its Spanish label."""
    return container.multiselect(
        label, list(kind), format_func=lambda member: kind(member).label, key=key, placeholder=placeholder, on_change=on_change
    )
