from celery import shared_task

from inspection.services.gauges import gauge_statuses_refresh


@shared_task
def gauge_statuses_refresh_daily() -> int:
    """Beat runs this once a day; a second run the same day changes nothing."""
    return gauge_statuses_refresh()
