"""A planner runs, compares and publishes a schedule in Chromium; the operator's dispatch list follows."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from jobs.models import ScheduleRun
from jobs.services.release import job_release
from jobs.tests.test_planning import open_every_day
from tests.factories import JobFactory
from tests.test_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def three_jobs(small_shop, planner):
    """Priority says A first; only B is due today, so the schedule turns B first."""
    open_every_day(small_shop.vf2.calendar)
    today = timezone.localdate()
    a = JobFactory(part_revision=small_shop.revision, number="WO-A", quantity=40, priority=1,
                   due_date=today + dt.timedelta(days=20))
    b = JobFactory(part_revision=small_shop.revision, number="WO-B", quantity=40, priority=5, due_date=today)
    c = JobFactory(part_revision=small_shop.revision, number="WO-C", quantity=40, priority=3,
                   due_date=today + dt.timedelta(days=10))
    for job in (a, b, c):
        job_release(job_id=job.pk, user=planner)
    return small_shop


def start_run(page: Page, seconds: int, solver: str) -> ScheduleRun:
    before = ScheduleRun.objects.count()
    page.locator("#run-time-limit").fill(str(seconds))
    page.locator("#run-solver").select_option(solver)
    page.locator("#run-submit").click()
    expect(page.locator("tr.run-row")).to_have_count(before + 1)
    run = ScheduleRun.objects.latest("pk")
    expect(page.locator(f"#run-{run.pk}")).to_have_attribute("data-status", "succeeded", timeout=90_000)
    return run


def test_a_planner_runs_compares_and_publishes_and_the_dispatch_list_follows(page: Page, live_server, planner, operator,
                                                                           three_jobs, scheduling_worker):
    log_in(page, live_server.url, "planner")
    page.goto(f"{live_server.url}/planning/")
    edd = start_run(page, 2, "edd")
    best = start_run(page, 4, "auto")

    # Side by side: each run's figures beside the EDD baseline.
    for run in (edd, best):
        expect(page.locator(f"#run-{run.pk} .figure-cell")).to_have_count(4)
    page.locator(f"#publish-{best.pk}").click()
    expect(page.locator(f"#run-{best.pk} [data-published]")).to_be_visible()
    best.refresh_from_db()
    assert best.published

    page.goto(f"{live_server.url}/planning/runs/{best.pk}/")
    for job in ("WO-A", "WO-B", "WO-C"):
        expect(page.locator(f'#gantt [data-operation="{job}/10"]')).to_have_count(1)
    lathe_order = list(best.entries.filter(machine=three_jobs.lathe).order_by("starts_at")
                       .values_list("operation__job__number", flat=True))
    assert lathe_order[0] == "WO-B"

    operator_page = page.context.browser.new_context().new_page()
    log_in(operator_page, live_server.url, "operator")
    operator_page.goto(f"{live_server.url}/terminal/{three_jobs.lathe.pk}/")
    items = operator_page.locator(".dispatch-list .dispatch-item strong")
    expect(items.first).to_have_text("WO-B / 10")
    assert [text.split(" / ")[0] for text in items.all_inner_texts()[:3]] == lathe_order
