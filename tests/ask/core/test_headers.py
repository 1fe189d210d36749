"""Security headers (finding 15): a strict Content-Security-Policy, private members' pages, Vary on
cached anonymous pages, HSTS preload only when asked for."""
import json
import subprocess

import pytest

from tests.ask.core.test_settings import SHOW_SETTINGS
from tests.factories import QuestionFactory, UserFactory
from tests.support import PYTHON, ROOT

pytestmark = pytest.mark.django_db(transaction=True)


def test_every_page_has_a_strict_content_security_policy(client):
    QuestionFactory()
    policy = client.get("/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'" and directives["default-src"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert client.get("/")["X-Cache"] == "hit" and "Content-Security-Policy" in client.get("/")


def test_cached_anonymous_pages_vary_on_the_cookie_and_members_pages_are_private(client):
    QuestionFactory()
    first, second = client.get("/"), client.get("/")
    assert (first["X-Cache"], second["X-Cache"]) == ("miss", "hit")
    assert all("Cookie" in r["Vary"] for r in (first, second))
    client.force_login(UserFactory())
    member = client.get("/")
    assert "private" in member["Cache-Control"] and "Cookie" in member["Vary"]


def test_the_statistics_charts_carry_the_nonce_and_no_inline_script(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.get("/stats/")
    html, policy = response.content.decode(), response["Content-Security-Policy"]
    nonce = policy.split("'nonce-", 1)[1].split("'", 1)[0]
    assert f'<style nonce="{nonce}"' in html and "<script type=\"text/javascript\">" not in html
    assert ' style="' not in html


def show(env: dict, var_dir) -> dict:
    code = SHOW_SETTINGS + "; print(json.dumps({'preload': getattr(s, 'SECURE_HSTS_PRELOAD', None)}))"
    out = subprocess.run([PYTHON, "-c", code], env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "ask.settings",
                                                    "ASK_VAR_DIR": str(var_dir), **env},
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_hsts_preload_is_opt_in(var_dir):
    assert show({"ASK_HTTPS": "1"}, var_dir)["preload"] is False
    assert show({"ASK_HTTPS": "1", "SECURE_HSTS_PRELOAD": "1"}, var_dir)["preload"] is True
