"""A dictionary that computes what it does not know yet."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

CACHE_MAX = 100_000
"""Keys remembered; past this, a new key's value is computed every time it is looked up."""


class Remembered(dict[str, T]):
    """A missing key's value comes from ``rule`` and is remembered (up to ``CACHE_MAX`` keys), so
    ``map(remembered.__getitem__, words)`` stays a C loop for words seen before."""

    def __init__(self, rule: Callable[[str], T]) -> None:
        super().__init__()
        self.rule = rule

    def __missing__(self, key: str) -> T:
        value = self.rule(key)
        if len(self) < CACHE_MAX:
            self[key] = value
        return value
