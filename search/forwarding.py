"""`Forwarded`: a read-only attribute answered by another object the owner reaches first.

A wrapper that stands in for another object (`LazyEmbedder` for its model, `SearchIndex` for
the view it serves) declares each passed-through attribute in one line instead of a property
each, so what it adds stands out from what it only hands on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

__all__ = ["Forwarded"]

T = TypeVar("T")


class Forwarded(Generic[T]):
    """`owner.<name>` is `via(owner).<attribute>` (the attribute defaults to the same name),
    read each time: the target may change (a swapped view) or appear late (a loaded model)."""

    def __init__(self, via: Callable[[Any], object], attribute: str | None = None) -> None:
        self._via = via
        self._attribute = attribute

    def __set_name__(self, owner: type, name: str) -> None:
        if self._attribute is None:
            self._attribute = name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Forwarded[T]: ...

    @overload
    def __get__(self, obj: object, owner: type | None = None) -> T: ...

    def __get__(self, obj: object | None, owner: type | None = None) -> Forwarded[T] | T:
        if obj is None:
            return self
        value: T = getattr(self._via(obj), self._attribute or "")
        return value
