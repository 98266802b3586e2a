"""The traveler's page: the job's printed paperwork in the browser. The document itself: jobs/tests/test_traveler.py."""

from django.conf import settings
from django.shortcuts import resolve_url
from django.urls import reverse

from jobs.tests.test_traveler import long_job, pdf_text, released_job  # noqa: F401  (the fixtures)


def test_any_logged_in_role_opens_the_traveler_in_the_browser(client, operator, long_job,  # noqa: F811
                                                              django_assert_max_num_queries):
    client.force_login(operator)
    with django_assert_max_num_queries(7):
        response = client.get(reverse("job-traveler", args=[long_job.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="traveler-{long_job.number}.pdf"'
    assert response.content.startswith(b"%PDF-")


def test_an_anonymous_visitor_is_sent_to_the_login_page(client, released_job):  # noqa: F811
    url = reverse("job-traveler", args=[released_job.pk])
    assert url == f"/jobs/{released_job.pk}/traveler.pdf"

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(resolve_url(settings.LOGIN_URL))


def test_a_missing_job_has_no_traveler(client, operator, released_job):  # noqa: F811
    client.force_login(operator)
    assert client.get(reverse("job-traveler", args=[released_job.pk + 1000])).status_code == 404


def test_a_planned_job_prints_a_traveler_that_says_it_is_not_released(client, operator, small_shop):
    client.force_login(operator)
    response = client.get(reverse("job-traveler", args=[small_shop.job.pk]))
    assert response.status_code == 200
    assert "Release it before printing" in pdf_text(response.content)
