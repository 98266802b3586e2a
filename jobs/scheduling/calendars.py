"""Machine calendars as merged working segments, and where an operation fits in them."""

from __future__ import annotations

from bisect import bisect_right

from .problem import Window


def _merge(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


class Calendar:
    """Available (working) and attended segments of one machine.

    ``windows=None`` means always available and attended. Adjacent or overlapping windows
    merge into one segment, so a cycle runs from an attended shift straight into an adjoining
    lights-out window.
    """

    def __init__(self, windows: list[Window] | None):
        self.always = windows is None
        if windows is None:
            self.available: list[tuple[int, int]] = []
            self.attended: list[tuple[int, int]] = []
        else:
            self.available = _merge([(w.start, w.end) for w in windows])
            self.attended = _merge([(w.start, w.end) for w in windows if w.attended])
        self._av_ends = [e for _, e in self.available]
        self._att_ends = [e for _, e in self.attended]

    @property
    def working_minutes(self) -> int | None:
        return None if self.always else sum(e - s for s, e in self.available)

    @property
    def end(self) -> int | None:
        """Minute after which nothing can run (``None``: no end)."""
        return None if self.always or not self.available else self.available[-1][1]

    def earliest_start(self, t: int, changeover: int, setup: int, run: int) -> int | None:
        """Smallest start ``x >= t`` where the changeover and the operation fit, or ``None``.

        ``[x - changeover, x + setup + run)`` must lie in one available segment and
        ``[x - changeover, x + setup)`` in one attended segment.
        """
        if self.always or changeover + setup + run == 0:
            return t
        need_attended = changeover + setup > 0
        i = bisect_right(self._av_ends, t - changeover)
        for a0, a1 in self.available[i:]:
            x = max(t, a0 + changeover)
            if x + setup + run > a1:
                continue
            if not need_attended:
                return x
            j = bisect_right(self._att_ends, x - changeover)
            for b0, b1 in self.attended[j:]:
                if b0 >= a1:
                    break
                x2 = max(x, b0 + changeover)
                if x2 + setup + run > a1:
                    break
                if x2 + setup <= b1:
                    return x2
        return None

    def _inside(self, segments: list[tuple[int, int]], ends: list[int], lo: int, hi: int) -> bool:
        if hi <= lo:
            return True
        i = bisect_right(ends, lo)
        return i < len(segments) and segments[i][0] <= lo and hi <= segments[i][1]

    def check(self, start: int, changeover: int, setup: int, run: int) -> tuple[bool, bool]:
        """(fits in available time, changeover + setup in attended time)."""
        if self.always:
            return True, True
        lo = start - changeover
        available = self._inside(self.available, self._av_ends, lo, start + setup + run)
        attended = self._inside(self.attended, self._att_ends, lo, start + setup)
        return available, attended

    @staticmethod
    def _gaps(segments: list[tuple[int, int]], lo: int, hi: int) -> list[tuple[int, int]]:
        gaps: list[tuple[int, int]] = []
        cursor = lo
        for s, e in segments:
            if e <= lo:
                continue
            if s >= hi:
                break
            if s > cursor:
                gaps.append((cursor, s))
            cursor = max(cursor, e)
        if cursor < hi:
            gaps.append((cursor, hi))
        return gaps

    def breaks(self, lo: int, hi: int) -> list[tuple[int, int]]:
        """Non-working intervals within ``[lo, hi)``."""
        return [] if self.always else self._gaps(self.available, lo, hi)

    def unattended(self, lo: int, hi: int) -> list[tuple[int, int]]:
        """Intervals within ``[lo, hi)`` where no setup may happen (breaks included)."""
        return [] if self.always else self._gaps(self.attended, lo, hi)
