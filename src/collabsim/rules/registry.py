"""A tiny name -> strategy registry shared by the rule modules."""

from __future__ import annotations

from collections.abc import Callable


class Registry[T](dict[str, T]):
    """A dict of named strategies with a decorator to register instances."""

    def register(self, name: str) -> Callable[[type], type]:
        """Class decorator: instantiate the class and file it under ``name``."""

        def wrap(cls: type) -> type:
            self[name] = cls()
            cls.name = name
            return cls

        return wrap
