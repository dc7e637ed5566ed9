"""The OpenAPI schema (drf-spectacular) is valid and declares the refusals, not only successes."""

import re

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command


def test_the_schema_validates_without_warnings(tmp_path):
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml")
    )
    assert (tmp_path / "schema.yaml").read_text().startswith("openapi: 3.")


@pytest.fixture
def served_schema(api_client):
    response = api_client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize(
    ("path", "method", "statuses"),
    [
        ("/api/users/", "post", {"201", "400", "403", "413", "429"}),
        ("/api/users/me/", "get", {"200", "401"}),
        ("/api/users/me/", "patch", {"200", "400", "401", "403", "413", "429"}),
        ("/api/auth/logout/", "post", {"204", "401", "413"}),
        ("/api/auth/email/confirm/", "post", {"200", "400", "413", "429"}),
        ("/api/users/me/email/resend/", "post", {"202", "400", "401", "403", "413", "429"}),
    ],
)
def test_the_schema_declares_each_operations_refusals(served_schema, path, method, statuses):
    assert set(served_schema["paths"][path][method]["responses"]) == statuses


@pytest.mark.parametrize(
    ("path", "method", "status", "fields"),
    [
        ("/api/users/", "post", "400", {"username", "email", "password", "non_field_errors"}),
        ("/api/users/", "post", "403", {"detail"}),
        ("/api/users/", "post", "429", {"detail"}),
        (
            "/api/users/me/",
            "patch",
            "400",
            {"username", "email", "current_password", "non_field_errors"},
        ),
        ("/api/auth/email/confirm/", "post", "400", {"key", "email"}),
        ("/api/auth/email/confirm/", "post", "429", {"detail"}),
        ("/api/users/me/", "get", "401", {"detail"}),
        ("/api/auth/logout/", "post", "401", {"detail"}),
    ],
)
def test_the_schema_describes_each_error_body(served_schema, path, method, status, fields):
    content = served_schema["paths"][path][method]["responses"][status]["content"]
    reference = content["application/json"]["schema"]["$ref"]
    component = served_schema["components"]["schemas"][reference.rsplit("/", 1)[1]]
    assert fields <= set(component["properties"])


def test_the_registration_schema_never_returns_the_password(served_schema):
    """Either answer: the new account with its token, or, under enumeration prevention, the
    same answer whether the address was free or not."""
    reference = served_schema["paths"]["/api/users/"]["post"]["responses"]["201"]["content"][
        "application/json"
    ]["schema"]["$ref"]
    answer = served_schema["components"]["schemas"][reference.rsplit("/", 1)[1]]
    shapes = [set(component_of(served_schema, one)["properties"]) for one in answer["oneOf"]]
    assert shapes == [
        {"id", "username", "email", "email_confirmed", "token"},
        {"username", "email", "email_confirmed", "detail"},
    ]


def component_of(served_schema, schema):
    return served_schema["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]


def test_the_schema_shows_the_pending_email_and_takes_the_current_password(served_schema):
    patch = served_schema["paths"]["/api/users/me/"]["patch"]
    request = component_of(
        served_schema, patch["requestBody"]["content"]["application/json"]["schema"]
    )
    response = component_of(
        served_schema, patch["responses"]["200"]["content"]["application/json"]["schema"]
    )
    assert "current_password" in request["properties"]
    assert "pending_email" not in request["properties"]
    assert "pending_email" in response["properties"]
    assert "current_password" not in response["properties"]


def test_the_schema_shows_whether_the_email_is_confirmed_read_only(served_schema):
    operation = served_schema["paths"]["/api/users/me/"]["patch"]
    request = component_of(
        served_schema, operation["requestBody"]["content"]["application/json"]["schema"]
    )
    response = component_of(
        served_schema, operation["responses"]["200"]["content"]["application/json"]["schema"]
    )
    assert response["properties"]["email_confirmed"]["type"] == "boolean"
    assert "email_confirmed" not in request["properties"]


def test_the_email_confirmation_needs_no_login_in_the_schema(served_schema):
    operation = served_schema["paths"]["/api/auth/email/confirm/"]["post"]
    assert "security" not in operation  # as the token login: no credentials asked
    request = component_of(
        served_schema, operation["requestBody"]["content"]["application/json"]["schema"]
    )
    assert request["required"] == ["key"]


def test_the_interactive_docs_are_served(api_client):
    response = api_client.get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger-ui" in response.content


@pytest.fixture
def docs_page(api_client):
    response = api_client.get("/api/docs/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_docs_page_loads_nothing_from_another_site(docs_page):
    """drf-spectacular's default is Swagger UI from a CDN at ``@latest``: blank offline, unpinned."""
    assert re.findall(r"(?:https?:)?//[\w.-]+", docs_page) == []


def test_every_asset_of_the_docs_page_is_a_static_file_we_serve(docs_page):
    assets = re.findall(r'(?:src|href)="([^"]+)"', docs_page)
    assert len(assets) == 4  # favicon, stylesheet, the Swagger UI bundle and its preset
    static_url = "/" + settings.STATIC_URL.strip("/") + "/"
    for asset in assets:
        assert asset.startswith(static_url), asset
        assert finders.find(asset.removeprefix(static_url)), f"no static file for {asset}"
