"""The changeover function built from changeover rules.

A changeover between two consecutive operations on one machine costs, for every setup
attribute (fixture, material, tool kit, program) whose value changes, the minutes of the
best matching rule of that attribute; the minutes of the changed attributes add up.

Matching: a rule applies to a machine when its ``work_center`` is the machine's work center
or ``"*"``, and to a change ``a -> b`` when ``from_value`` is ``a`` or ``"*"`` and ``to_value``
is ``b`` or ``"*"``. The most specific matching rule (fewest wildcards among work center,
from and to) wins; a higher priority breaks ties; then the rule given first. An attribute
that changes with no matching rule costs nothing. A target value of ``None`` (the operation
does not care) never costs anything.
"""

from __future__ import annotations

from collections.abc import Iterable

from .problem import ATTRIBUTES, WILDCARD, ChangeoverRule, ProblemError, Setup


class ChangeoverRules:
    """Indexed changeover rules: ``minutes(work_center, from_setup, to_setup)``."""

    def __init__(self, rules: Iterable[ChangeoverRule]):
        # (attribute, work_center, from, to) -> (priority, -order, minutes) of the winner
        self._best: dict[tuple[str, str, str, str], tuple[int, int, int]] = {}
        for order, rule in enumerate(rules):
            if rule.attribute not in ATTRIBUTES:
                raise ProblemError(
                    f"changeover rule #{order + 1} names unknown attribute {rule.attribute!r} "
                    f"(expected one of {', '.join(ATTRIBUTES)})"
                )
            if rule.minutes < 0:
                raise ProblemError(f"changeover rule #{order + 1} ({rule.attribute}) has negative minutes")
            key = (rule.attribute, rule.work_center, rule.from_value, rule.to_value)
            candidate = (rule.priority, -order, rule.minutes)
            current = self._best.get(key)
            if current is None or candidate[:2] > current[:2]:
                self._best[key] = candidate
        self._attributes = {key[0] for key in self._best}
        self._cache: dict[tuple[str, Setup, Setup], int] = {}

    def __bool__(self) -> bool:
        return bool(self._best)

    def attribute_minutes(self, work_center: str, attribute: str, old: str | None, new: str | None) -> int:
        """Minutes of one attribute's change (0 when it does not change or nothing matches)."""
        if new is None or old == new or attribute not in self._attributes:
            return 0
        best: tuple[int, int, int, int] | None = None  # (specificity, priority, -order, minutes)
        for wc in (work_center, WILDCARD):
            for frm in (old, WILDCARD):
                if frm is None:
                    continue
                for to in (new, WILDCARD):
                    hit = self._best.get((attribute, wc, frm, to))
                    if hit is None:
                        continue
                    specificity = (wc != WILDCARD) + (frm != WILDCARD) + (to != WILDCARD)
                    cand = (specificity, hit[0], hit[1], hit[2])
                    if best is None or cand[:3] > best[:3]:
                        best = cand
        return 0 if best is None else best[3]

    def minutes(self, work_center: str, old: Setup, new: Setup) -> int:
        """Total changeover minutes on a machine of ``work_center`` from ``old`` to ``new``."""
        if old == new or not self._best:
            return 0
        key = (work_center, old, new)
        cached = self._cache.get(key)
        if cached is None:
            cached = sum(
                self.attribute_minutes(work_center, attr, old.value(attr), new.value(attr)) for attr in ATTRIBUTES
            )
            self._cache[key] = cached
        return cached
