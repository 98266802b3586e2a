"""The REST API as another system or a script sees it: auth, roles, errors, filters, release."""

import pytest
from django.contrib.auth import get_user_model

from conftest import PASSWORD
from jobs.choices import JobStatus
from tests.factories import JobFactory, PartRevisionFactory, RoutingFactory, WorkCenterFactory


@pytest.mark.django_db
def test_the_token_endpoint_gives_a_token_that_opens_the_api(api, planner):
    response = api.post("/api/v1/auth/token/", {"username": "planner", "password": PASSWORD})
    assert response.status_code == 200
    api.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert api.get("/api/v1/jobs/").status_code == 200


@pytest.mark.django_db
def test_a_wrong_password_gets_no_token(api, planner):
    response = api.post("/api/v1/auth/token/", {"username": "planner", "password": "nope"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


@pytest.mark.django_db
def test_without_credentials_the_api_answers_401(api):
    response = api.get("/api/v1/jobs/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "url", "payload", "status"),
    [
        ("operator", "/api/v1/routings/", "routing", 403),
        ("planner", "/api/v1/routings/", "routing", 201),
        ("planner", "/api/v1/characteristics/", "characteristic", 403),
        ("inspector", "/api/v1/characteristics/", "characteristic", 201),
        ("inspector", "/api/v1/jobs/", "job", 403),
        ("manager", "/api/v1/jobs/", "job", 403),
        ("planner", "/api/v1/jobs/", "job", 201),
        ("operator", "/api/v1/work-centers/", "work_center", 403),
        ("manager", "/api/v1/work-centers/", "work_center", 201),
    ],
)
def test_permission_matrix(api_as, make_user, role, url, payload, status):
    from inspection.models import InspectionPlan

    revision = PartRevisionFactory()
    payloads = {
        "routing": {"part_revision": revision.pk, "version": 2},
        "characteristic": {"plan": InspectionPlan.objects.create(part_revision=revision).pk, "balloon_number": "1",
                           "nominal": "10.000", "lower_limit": "9.980", "upper_limit": "10.020"},
        "job": {"part_revision": revision.pk, "quantity": 5, "due_date": "2030-01-15"},
        "work_center": {"code": "GRIND", "name": "Grinders"},
    }
    response = api_as(make_user(role)).post(url, payloads[payload], format="json")
    assert response.status_code == status, response.content
    if status == 403:
        assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.django_db
def test_invalid_input_is_a_400_with_field_errors(api_as, planner):
    revision = PartRevisionFactory()
    response = api_as(planner).post("/api/v1/jobs/", {"part_revision": revision.pk, "quantity": 0,
                                                      "due_date": "not a date"}, format="json")
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert set(fields) == {"quantity", "due_date"}


@pytest.mark.django_db
def test_a_broken_model_rule_is_a_400_not_a_500(api_as, inspector):
    from inspection.models import InspectionPlan

    plan = InspectionPlan.objects.create(part_revision=PartRevisionFactory())
    response = api_as(inspector).post("/api/v1/characteristics/", {
        "plan": plan.pk, "balloon_number": "4", "nominal": "10", "lower_limit": "10.5", "upper_limit": "11",
    }, format="json")
    assert response.status_code == 400
    assert "nominal" in response.json()["error"]["message"]


@pytest.mark.django_db
def test_a_duplicate_job_number_is_a_field_error(api_as, planner):
    job = JobFactory(number="WO26-00001")
    response = api_as(planner).post("/api/v1/jobs/", {"number": "WO26-00001", "part_revision": job.part_revision.pk,
                                                      "quantity": 2, "due_date": "2030-01-15"}, format="json")
    assert response.status_code == 400
    assert "number" in response.json()["error"]["fields"]


@pytest.mark.django_db
def test_release_through_the_api_then_a_second_release_is_a_409(api_as, planner, small_shop):
    api = api_as(planner)
    response = api.post(f"/api/v1/jobs/{small_shop.job.pk}/release/")
    assert response.status_code == 200
    assert response.json()["status"] == JobStatus.RELEASED
    operations = api.get("/api/v1/operations/", {"job": small_shop.job.pk}).json()["results"]
    assert [op["operation_number"] for op in operations] == [10, 20]
    assert [m["machine"] for m in operations[1]["eligible_machines"]] == [small_shop.vf4.pk, small_shop.vf2.pk]

    again = api.post(f"/api/v1/jobs/{small_shop.job.pk}/release/")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_released"


@pytest.mark.django_db
def test_release_of_a_routing_without_steps_is_a_409_with_the_reason(api_as, planner):
    job = JobFactory(part_revision=RoutingFactory().part_revision)
    response = api_as(planner).post(f"/api/v1/jobs/{job.pk}/release/")
    assert response.status_code == 409
    assert "no routing steps" in response.json()["error"]["message"]


@pytest.mark.django_db
def test_an_operator_may_not_release(api_as, operator, small_shop):
    response = api_as(operator).post(f"/api/v1/jobs/{small_shop.job.pk}/release/")
    assert response.status_code == 403
    small_shop.job.refresh_from_db()
    assert small_shop.job.status == JobStatus.PLANNED


@pytest.mark.django_db
def test_a_missing_record_is_a_404_in_the_same_format(api_as, planner):
    response = api_as(planner).post("/api/v1/jobs/999999/release/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_jobs_filter_search_and_paginate(api_as, planner):
    revision = PartRevisionFactory(part__number="BRK-7")
    JobFactory.create_batch(3, part_revision=revision, due_date="2030-02-01")
    JobFactory.create_batch(2, due_date="2030-03-01")
    api = api_as(planner)

    page = api.get("/api/v1/jobs/", {"page_size": 2}).json()
    assert page["count"] == 5 and len(page["results"]) == 2 and page["next"]
    assert api.get("/api/v1/jobs/", {"part": "BRK-7"}).json()["count"] == 3
    assert api.get("/api/v1/jobs/", {"due_after": "2030-02-15"}).json()["count"] == 2
    assert api.get("/api/v1/jobs/", {"search": "WO"}).json()["count"] == 5
    assert api.get("/api/v1/jobs/", {"status": "released"}).json()["count"] == 0


@pytest.mark.django_db
def test_updating_a_record_goes_through_validation(api_as, planner):
    job = JobFactory()
    api = api_as(planner)
    assert api.patch(f"/api/v1/jobs/{job.pk}/", {"priority": 1}, format="json").status_code == 200
    response = api.patch(f"/api/v1/jobs/{job.pk}/", {"priority": 0}, format="json")
    assert response.status_code == 400 and "priority" in response.json()["error"]["fields"]
    # The status is the services' to change, not a field to type over.
    api.patch(f"/api/v1/jobs/{job.pk}/", {"status": "complete"}, format="json")
    job.refresh_from_db()
    assert (job.priority, job.status) == (1, JobStatus.PLANNED)


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/v1/jobs/", "/api/v1/operations/", "/api/v1/machines/", "/api/v1/fixtures/"])
def test_list_endpoints_issue_a_bounded_number_of_queries(api_as, planner, small_shop, url,
                                                          django_assert_max_num_queries):
    from jobs.services.release import job_release

    for _ in range(6):
        job = JobFactory(part_revision=small_shop.revision)
        job_release(job_id=job.pk, user=planner)
    WorkCenterFactory.create_batch(3)
    api = api_as(planner)
    with django_assert_max_num_queries(8):
        assert api.get(url).status_code == 200


@pytest.mark.django_db
def test_schema_and_docs_need_a_login_and_are_served(client, planner):
    assert client.get("/api/schema/").status_code in (401, 403)
    client.force_login(planner)
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"/static/drf_spectacular_sidecar/" in docs.content


@pytest.mark.django_db
def test_users_are_not_exposed_by_the_api(api_as, planner):
    assert get_user_model().objects.exists()
    assert api_as(planner).get("/api/v1/users/").status_code == 404


@pytest.mark.django_db
def test_me_tells_the_caller_their_roles(api_as, make_user):
    user = make_user("inspector", first_name="Ines", last_name="Vogt")
    assert api_as(user).get("/api/v1/me/").json() == {"username": "inspector", "name": "Ines Vogt",
                                                      "roles": ["inspector"]}
