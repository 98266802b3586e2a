"""The utilization/OEE report for all machines over a year, against one plain GROUP BY machine sum over the
same events table, measured in the same run. Memory: the peak of Python allocations during the report
(tracemalloc), for half the year and the whole year: it should not grow with the number of events.

    python -m bench.reports [--days 365] [--repeat 3]   (see run.sh for the database)
"""

import argparse
import datetime as dt
import json
import statistics
import time
import tracemalloc

import django


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    django.setup()
    from django.db import connection
    from django.utils import timezone

    from machines.models import Machine, MachineStateEvent
    from reporting.builders import oee_report
    from reporting.filters import ReportFilter

    now = timezone.now()
    date_to = timezone.localdate()
    date_from = date_to - dt.timedelta(days=args.days - 1)
    year = ReportFilter(date_from=date_from, date_to=date_to)
    half = ReportFilter(date_from=date_to - dt.timedelta(days=args.days // 2 - 1), date_to=date_to)
    events = MachineStateEvent.objects.filter(started_at__lt=year.end, ended_at__gt=year.start).count()
    half_events = MachineStateEvent.objects.filter(started_at__lt=half.end, ended_at__gt=half.start).count()

    def baseline() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT machine_id, SUM(EXTRACT(EPOCH FROM COALESCE(ended_at, %s) - started_at)) "
                "FROM machines_machinestateevent WHERE started_at < %s AND COALESCE(ended_at, %s) > %s "
                "GROUP BY machine_id", [now, year.end, now, year.start])
            cursor.fetchall()

    def report(period: ReportFilter):
        return oee_report(period, now=now)

    def timed(function, *fargs) -> float:
        start = time.perf_counter()
        function(*fargs)
        return time.perf_counter() - start

    baseline()  # warm the cache for both
    report(year)
    baseline_times, report_times = [], []
    for _ in range(args.repeat):
        baseline_times.append(timed(baseline))
        report_times.append(timed(report, year))

    def peak(period: ReportFilter) -> int:
        tracemalloc.start()
        report(period)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    result = {
        "machines": Machine.objects.count(), "days": args.days, "state_events_in_period": events,
        "baseline_group_by_s": round(statistics.median(baseline_times), 3),
        "report_s": round(statistics.median(report_times), 3),
        "ratio": round(statistics.median(report_times) / statistics.median(baseline_times), 2),
        "python_peak_kib_half_period": round(peak(half) / 1024), "events_half_period": half_events,
        "python_peak_kib_full_period": round(peak(year) / 1024),
        "rows": len(report(year).rows),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
