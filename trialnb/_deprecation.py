"""Renamed keywords kept working for one release (with a :class:`DeprecationWarning`).

The package says one name per quantity (``hazard_ratio``, ``control_survival``,
``dropout_probability``, ...). Old spellings of a renamed keyword are still accepted, with a
warning that names the new keyword, so that user notebooks written against the old names keep
running; the value given under the old name is the one used.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any, Callable, Mapping, TypeVar

T = TypeVar("T")


def deprecation_message(owner: str, old: str, new: str) -> str:
    return (f"{owner}: the keyword {old!r} is deprecated and will be removed in the next release; "
            f"use {new!r} (the value given as {old!r} is used)")


def translate_kwargs(owner: str, renames: Mapping[str, str], kwargs: dict[str, Any], stacklevel: int) -> None:
    """Move every old keyword of ``kwargs`` to its new name, warning once per old keyword."""
    for old, new in renames.items():
        if old in kwargs:
            warnings.warn(deprecation_message(owner, old, new), DeprecationWarning, stacklevel=stacklevel)
            kwargs[new] = kwargs.pop(old)


def renamed_fields(renames: Mapping[str, str]) -> Callable[[type[T]], type[T]]:
    """Class decorator for a (frozen) dataclass whose fields were renamed ``old -> new``.

    The constructor (and so :func:`dataclasses.replace`) accepts the old keyword with a
    :class:`DeprecationWarning`; reading the old attribute name also warns and returns the
    new field's value.
    """

    def decorate(cls: type[T]) -> type[T]:
        init = cls.__init__

        @functools.wraps(init)
        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            translate_kwargs(cls.__name__, renames, kwargs, stacklevel=3)
            init(self, *args, **kwargs)

        cls.__init__ = __init__  # type: ignore[misc]
        for old, new in renames.items():
            def getter(self: Any, _old: str = old, _new: str = new) -> Any:
                warnings.warn(deprecation_message(type(self).__name__, _old, _new), DeprecationWarning, stacklevel=2)
                return getattr(self, _new)
            setattr(cls, old, property(getter, doc=f"Deprecated alias of ``{new}``."))
        return cls

    return decorate


def renamed_kwargs(renames: Mapping[str, str]) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Function decorator: accept each old keyword ``old`` as ``new`` with a DeprecationWarning."""

    def decorate(fn: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> T:
            translate_kwargs(fn.__qualname__, renames, kwargs, stacklevel=3)
            return fn(*args, **kwargs)

        return wrapper

    return decorate
