"""Machine calendars as merged working segments, and where an operation fits in them.

:meth:`Calendar.finish` is the one place that says when an operation started at a given
minute ends; with ``runs_resume`` its run pauses over breaks (see :meth:`Calendar.run_end`).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

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
    lights-out window. With ``runs_resume`` (``Problem.runs_resume_after_breaks``) a run may
    also cross the breaks between segments: it needs ``run`` working minutes and pauses over
    the breaks, while the changeover and the setup stay in one attended segment.
    """

    def __init__(self, windows: list[Window] | None, runs_resume: bool = False):
        self.always = windows is None
        self.runs_resume = runs_resume
        if windows is None:
            self.available: list[tuple[int, int]] = []
            self.attended: list[tuple[int, int]] = []
        else:
            self.available = _merge([(w.start, w.end) for w in windows])
            self.attended = _merge([(w.start, w.end) for w in windows if w.attended])
        self._av_ends = [e for _, e in self.available]
        self._att_ends = [e for _, e in self.attended]
        # _worked[j]: working minutes before segment j (the last entry: all of them)
        self._worked = [0]
        for a0, a1 in self.available:
            self._worked.append(self._worked[-1] + a1 - a0)

    @property
    def working_minutes(self) -> int | None:
        return None if self.always else sum(e - s for s, e in self.available)

    @property
    def end(self) -> int | None:
        """Minute after which nothing can run (``None``: no end)."""
        return None if self.always or not self.available else self.available[-1][1]

    # -- when an operation ends ----------------------------------------------------------
    def run_end(self, t: int, run: int) -> int | None:
        """End of a run of ``run`` working minutes begun at ``t``: breaks do not count, the run
        goes on at the next window (``None``: the calendar ends first). Never inside a break."""
        if self.always or run <= 0:
            return t + max(run, 0)
        i = bisect_right(self._av_ends, t)
        if i == len(self.available):
            return None
        a0 = self.available[i][0]
        need = self._worked[i] + max(t, a0) - a0 + run  # working minutes from the calendar start to the end
        if need > self._worked[-1]:
            return None
        m = bisect_left(self._worked, need) - 1  # the segment where the run ends
        return self.available[m][0] + need - self._worked[m]

    def finish(self, start: int, setup: int, run: int) -> int | None:
        """End of an operation started at ``start``: ``start + setup + run``, or with runs resuming
        after breaks, the run's :meth:`run_end` (``None``: it cannot finish before the calendar ends)."""
        if not self.runs_resume or self.always or run == 0:
            return start + setup + run
        return self.run_end(start + setup, run)

    def _working(self, t: int) -> bool:
        """Minute ``t`` is working time (inside a segment)."""
        i = bisect_right(self._av_ends, t)
        return i < len(self.available) and self.available[i][0] <= t

    def ends_in_break(self, end: int) -> bool:
        """A run ending at ``end`` worked its last minute in a break (or outside the calendar)."""
        if self.always:
            return False
        i = bisect_left(self._av_ends, end)  # first segment ending at or after ``end``
        return i == len(self.available) or not self.available[i][0] < end

    # -- where an operation fits -----------------------------------------------------------
    def earliest_start(self, t: int, changeover: int, setup: int, run: int) -> int | None:
        """Smallest start ``x >= t`` where the changeover and the operation fit, or ``None``.

        ``[x - changeover, x + setup + run)`` must lie in one available segment and
        ``[x - changeover, x + setup)`` in one attended segment. With runs resuming after
        breaks only the latter holds; ``x`` lies in working time and the run finishes before
        the calendar ends.
        """
        if self.always or changeover + setup + run == 0:
            return t
        if self.runs_resume:
            return self._earliest_resuming(t, changeover, setup, run)
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

    def _earliest_resuming(self, t: int, changeover: int, setup: int, run: int) -> int | None:
        x: int | None = None
        if changeover + setup == 0:  # run > 0: start in working time
            i = bisect_right(self._av_ends, t)
            if i < len(self.available):
                x = max(t, self.available[i][0])
        else:
            j = bisect_right(self._att_ends, t - changeover)
            for b0, b1 in self.attended[j:]:
                x2 = max(t, b0 + changeover)
                if x2 + setup > b1:
                    continue
                if setup + run > 0 and not self._working(x2):
                    continue  # changeover ends with the working time: the operation would start in a break
                x = x2
                break
        if x is None or self.run_end(x + setup, run) is None:
            return None  # a later start cannot finish either
        return x

    def resume_pieces(self, lo: int, hi: int, setup: int, run: int) -> list[tuple[int, int, int]]:
        """Starts in ``[lo, hi]`` that runs resuming after breaks allow, as pieces ``(first, last,
        offset)`` on which the break minutes crossed (``finish - start - setup - run``) are constant.

        A start is allowed when it is working time, the setup ends in the start's segment and
        the run finishes before the calendar ends (attended time is checked elsewhere).
        """
        if self.always:
            return [(lo, hi, 0)] if lo <= hi else []
        out: list[tuple[int, int, int]] = []
        for q, (a0, a1) in enumerate(self.available):
            if a1 <= lo:
                continue
            if a0 > hi:
                break
            x, x_hi = max(lo, a0), min(hi, a1 - max(setup, 1))
            while x <= x_hi:
                end = self.run_end(x + setup, run)
                if end is None:
                    return out
                if run <= 0:
                    out.append((x, x_hi, 0))
                    break
                # the end stays in its segment m (and the offset constant) while the working
                # minutes up to the end, worked[q] + (x + setup - a0) + run, stay <= worked[m + 1]
                m = bisect_left(self._av_ends, end)
                last = min(x_hi, self._worked[m + 1] - self._worked[q] - run - setup + a0)
                out.append((x, last, end - x - setup - run))
                x = last + 1
        return out

    def _inside(self, segments: list[tuple[int, int]], ends: list[int], lo: int, hi: int) -> bool:
        if hi <= lo:
            return True
        i = bisect_right(ends, lo)
        return i < len(segments) and segments[i][0] <= lo and hi <= segments[i][1]

    def check(self, start: int, changeover: int, setup: int, run: int) -> tuple[bool, bool]:
        """(fits in available time, changeover + setup in attended time).

        With runs resuming after breaks, "fits in available time" means: the start is working
        time (unless the operation takes no time) and the run finishes before the calendar ends.
        """
        if self.always:
            return True, True
        lo = start - changeover
        if self.runs_resume:
            available = (setup + run == 0 or self._working(start)) and self.finish(start, setup, run) is not None
        else:
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
