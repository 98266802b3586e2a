import pytest

from jobs.services.release import job_release
from tests.factories import JobFactory, MachineFactory


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "panels"),
    [
        ("operator", ["Machines", "Operations ready to start"]),
        ("inspector", ["First articles waiting", "Gauges due for calibration", "Open nonconformances"]),
        ("planner", ["Jobs awaiting release", "Late jobs", "Operations ready to start"]),
        ("manager", ["The shop now", "Late jobs", "Machines"]),
    ],
)
def test_each_role_sees_its_own_home_page(client, make_user, role, panels):
    client.force_login(make_user(role))
    html = client.get("/").content.decode()
    found = [title for title in ["Machines", "Operations ready to start", "First articles waiting",
                                 "Gauges due for calibration", "Open nonconformances", "Jobs awaiting release",
                                 "Late jobs", "The shop now"] if f"<h2>{title}</h2>" in html]
    assert sorted(found) == sorted(panels)


@pytest.mark.django_db
def test_the_home_page_issues_a_bounded_number_of_queries(client, make_user, planner, small_shop,
                                                          django_assert_max_num_queries):
    MachineFactory.create_batch(10, work_center=small_shop.mills, calendar=small_shop.vf2.calendar)
    for _ in range(10):
        job_release(job_id=JobFactory(part_revision=small_shop.revision).pk, user=planner)
    JobFactory.create_batch(10)
    client.force_login(make_user("admin", username="boss"))
    with django_assert_max_num_queries(20):
        response = client.get("/")
    assert response.status_code == 200
    assert small_shop.vf4.code in response.content.decode()
