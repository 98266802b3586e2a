"""Every URL the project serves needs a logged-in user, except the login page, static files and /healthz."""

import itertools
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

# The login pages (the token endpoint is the API's login) and the health check.
OPEN = {"login", "admin:login", "api-token", "healthz"}
# Values tried for each URL argument until the pattern matches (admin URLs want an app label).
SAMPLES = ("1", "auth", "x")


def walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        regex = prefix + entry.pattern.regex.pattern.lstrip("^")
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from walk(entry.url_patterns, regex.rstrip("$"), ns)
        elif isinstance(entry, URLPattern):
            yield f"{namespace}{entry.name}" if entry.name else regex, regex


def sample_path(regex: str) -> str:
    """A concrete path that the pattern matches, with sample values in its groups."""
    group = r"\((?!\?:)(?:\?P<\w+>)?(?:[^()]|\([^()]*\))*\)"  # a capturing group, named or not
    groups = re.findall(group, regex)
    template = re.sub(group, "{}", regex)
    template = template.replace("\\Z", "").replace("$", "").replace("\\.", ".").replace("/?", "/")
    template = re.sub(r"\(\?:[^)]*\)\??", "", template).replace("\\", "")
    compiled = re.compile("^" + regex.lstrip("^"))
    for values in itertools.product(SAMPLES, repeat=len(groups)):
        path = template.format(*values)
        if compiled.match(path):
            return "/" + path
    raise AssertionError(f"No sample path for {regex}")


ROUTES = sorted(set(walk(get_resolver().url_patterns)))


def test_the_walk_sees_pages_api_and_admin():
    names = {name for name, _ in ROUTES}
    assert {"home", "login", "logout", "healthz", "api-docs", "api-schema", "job-release", "admin:index"} <= names
    assert len(ROUTES) > 100


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "regex"), ROUTES, ids=[name for name, _ in ROUTES])
def test_anonymous_visitors_are_turned_away(client, name, regex):
    path = sample_path(regex)
    if name in OPEN or path.startswith("/static/"):
        return
    response = client.get(path)
    if path.startswith("/api/"):
        assert response.status_code in (401, 403), path
    else:
        assert response.status_code == 302, path
        assert response["Location"].startswith(("/login/", "/admin/login/")), path


@pytest.mark.django_db
def test_the_open_pages_answer_without_a_login(client):
    assert client.get("/login/").status_code == 200
    assert client.get("/admin/login/").status_code == 200
    assert client.get("/healthz").status_code == 200
    assert client.get("/static/vendor/htmx/htmx.min.js").status_code == 200
