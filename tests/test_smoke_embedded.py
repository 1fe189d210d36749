"""scripts/run with nothing configured: SQLite and the file cache under var/, served by gunicorn."""
import json
import os
import signal
import subprocess

import pytest

from tests.support import ROOT, answers, free_port, http_get, wait_for

pytestmark = pytest.mark.slow


def test_scripts_run_serves_the_embedded_site_and_can_run_again(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "MEMCACHED_SERVERS", "DJANGO_SETTINGS_MODULE"}}
    env.update(ASK_VAR_DIR=str(tmp_path / "var"), ASK_PORT=str(port), HEALTHZ_TOKEN="smoke-token")
    base = f"http://127.0.0.1:{port}"
    for attempt in ("first run", "second run"):
        proc = subprocess.Popen([str(ROOT / "scripts/run")], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            wait_for(lambda: answers(base + "/") or proc.poll() is not None, 180, interval=0.5,
                     what=f"scripts/run ({attempt})")
            assert proc.poll() is None, f"scripts/run exited on its {attempt}: {proc.stderr.read()}"
            status, html = http_get(base + "/")
            assert status == 200 and "New questions" in html
            assert json.loads(http_get(base + "/healthz")[1]) == {"status": "ok"}, "anonymous: the status only"
            status, body = http_get(base + "/healthz", headers={"Authorization": "Bearer smoke-token"})
            report = json.loads(body)
            assert status == 200 and report["status"] == "ok", body
            assert report["checks"]["database"]["detail"] == "sqlite"
            assert report["checks"]["cache"]["detail"] == "SignedFileBasedCache"
            css = http_get(base + "/static/ask/css/site.css")
            assert css[0] == 200 and ".site-header" in css[1]
            if attempt == "first run":
                assert "fill.example.com" not in html and "asked" in html, "the demo questions are there"
                password_file = tmp_path / "var" / "demo-password"
                email, password = password_file.read_text().split()
                assert email == "demo@example.com" and password != "demo-password"
                assert password_file.stat().st_mode & 0o077 == 0, "readable by the site's user only"
                sign_up(base, "newcomer@example.com")
                mail_dir = tmp_path / "var" / "mail"
                def activation_mailed() -> bool:
                    files = mail_dir.iterdir() if mail_dir.exists() else []
                    return any("newcomer@example.com" in f.read_text() and "/accounts/activate/" in f.read_text()
                               for f in files)

                wait_for(activation_mailed, 60, interval=0.5, what="the activation mail in var/mail")
        finally:
            proc.send_signal(signal.SIGTERM)  # as a service manager stops it
            proc.wait(90)
    assert (tmp_path / "var" / "ask.sqlite3").exists()
    assert (tmp_path / "var" / "demo-password").read_text().split()[1] == password, "the second start kept it"


def sign_up(base: str, email: str) -> None:
    """Post the sign-up form as a browser would (CSRF cookie and token included)."""
    import http.cookiejar
    import re
    import urllib.parse
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    form = opener.open(base + "/accounts/signup/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    data = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "email": email, "display_name": "Newcomer",
                                   "password1": "correct horse battery", "password2": "correct horse battery"})
    response = opener.open(urllib.request.Request(base + "/accounts/signup/", data=data.encode(),
                                                  headers={"Referer": base + "/accounts/signup/"}))
    assert response.url.endswith("/accounts/signup/done/")
