"""The public API is ``__all__``: every module declares it, every name in it exists, and every
public-looking function or class a module defines is either in it or private (``_name``)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import trialnb

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(trialnb.__path__, prefix="trialnb.")
    if not m.name.rsplit(".", 1)[-1].startswith("_")
)


def test_modules_found() -> None:
    assert {"trialnb.survival", "trialnb.population", "trialnb.randomization"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_all_is_the_public_api(name: str) -> None:
    mod = importlib.import_module(name)
    assert hasattr(mod, "__all__"), f"{name} declares no __all__"
    missing = [n for n in mod.__all__ if not hasattr(mod, n)]
    assert not missing, f"{name}.__all__ names what the module does not have: {missing}"
    assert len(set(mod.__all__)) == len(mod.__all__), f"{name}.__all__ repeats a name"
    defined_here = [
        n for n, obj in vars(mod).items()
        if not n.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj))
        and getattr(obj, "__module__", None) == name
    ]
    outside = sorted(set(defined_here) - set(mod.__all__))
    assert not outside, (f"{name} defines public-looking names outside __all__: {outside} "
                         "(add them to __all__ or make them private with a leading underscore)")
