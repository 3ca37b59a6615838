"""Security headers on every response, and templates that keep to the Content-Security-Policy."""

import re
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db

TEMPLATES = sorted((Path(settings.BASE_DIR) / "templates").rglob("*.html"))


@pytest.mark.parametrize("path", ["/login/", "/", "/api/v1/villages/", "/api/docs/", "/grants/"])
def test_every_response_carries_the_security_headers(client, province_staff, registry, path):
    client.force_login(province_staff)

    response = client.get(path)

    assert response.status_code in (200, 302)
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src", 1)[1].split(";")[0]
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.name)
def test_templates_have_no_inline_script_for_the_policy_to_block(template):
    html = template.read_text(encoding="utf-8")

    inline_scripts = [tag for tag in re.findall(r"<script\b[^>]*>", html) if "src=" not in tag]
    assert inline_scripts == []
    assert re.findall(r"\son[a-z]+\s*=", html) == []  # onclick=, onchange=, ...
    assert "javascript:" not in html


def test_the_api_docs_load_their_script_from_a_url_not_inline(client, province_staff):
    client.force_login(province_staff)

    html = client.get("/api/docs/").content.decode()

    assert all("src=" in tag for tag in re.findall(r"<script\b[^>]*>", html))
