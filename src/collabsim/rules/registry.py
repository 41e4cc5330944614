"""A tiny name -> strategy-class registry shared by the rule modules.

The registry holds classes; a model makes its own instance of each rule it uses
(``GOVERNANCE["shared"](params, rng)``), so a rule may keep per-model state and
read its constants from the scenario.
"""

from __future__ import annotations

from collections.abc import Callable


class Registry[T](dict[str, type[T]]):
    """A dict of named strategy classes with a decorator to register them."""

    def register(self, name: str) -> Callable[[type[T]], type[T]]:
        """Class decorator: file the class under ``name``."""

        def wrap(cls: type[T]) -> type[T]:
            self[name] = cls
            cls.name = name  # type: ignore[attr-defined]
            return cls

        return wrap
