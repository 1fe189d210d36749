"""The site stays up beside clients that connect and send nothing or trickle (a phone on a bad
network, a slowloris script): gunicorn as scripts/run starts it answers pages in time meanwhile, and
with nginx in front (scripts/run --nginx) such clients never reach a worker at all."""
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from urllib.parse import urlsplit

import pytest

from tests.support import ROOT, answers, free_port, http_get, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_idle_connections_do_not_stall_pages(gunicorn_factory):
    base = gunicorn_factory()
    address = urlsplit(base)
    idle = [socket.create_connection((address.hostname, address.port)) for _ in range(4)]
    try:
        time.sleep(0.3)  # the worker has accepted them and waits for their requests
        for path in ("/", "/hot/", "/healthz"):
            started = time.monotonic()
            status, _ = http_get(base + path, timeout=5)
            assert status == 200 and time.monotonic() - started < 1, path
    finally:
        for connection in idle:
            connection.close()


@pytest.mark.slow
def test_scripts_run_nginx_buffers_slow_clients_and_serves_static_files_itself(tmp_path):
    """Production on one host: nginx in front; silent and trickling clients never reach a worker."""
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "MEMCACHED_SERVERS", "DJANGO_SETTINGS_MODULE"}}
    env.update(ASK_VAR_DIR=str(tmp_path / "var"), ASK_PORT=str(port), ASK_RUN_JOBS="0", ASK_DEMO="0")
    proc = subprocess.Popen([str(ROOT / "scripts/run"), "--nginx"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: answers(base + "/") or proc.poll() is not None, 180, interval=0.5, what="scripts/run --nginx")
        assert proc.poll() is None, proc.stderr.read()
        silent = [socket.create_connection(("127.0.0.1", port)) for _ in range(40)]
        trickling = [socket.create_connection(("127.0.0.1", port)) for _ in range(20)]
        for connection in trickling:
            connection.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # and never the rest
        time.sleep(0.5)
        for path in ("/", "/hot/", "/healthz"):
            started = time.monotonic()
            status, _ = http_get(base + path, timeout=5)
            assert status == 200 and time.monotonic() - started < 1, path
        for connection in silent + trickling:
            connection.close()
        html = http_get(base + "/")[1]
        css = re.search(r'href="(/static/[^"]+\.[0-9a-f]{12}\.css)"', html).group(1)
        with urllib.request.urlopen(base + css, timeout=5) as response:
            assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable", "nginx's, not Django's"
            assert b".site-header" in response.read()
        assert_pages_cached_for_visitors_without_cookies_only(base)
        media = tmp_path / "var" / "media"
        (media / "avatars/2026/12").mkdir(parents=True)
        (media / "avatars/2026/12/ada.png").write_bytes(b"\x89PNG\r\n\x1a\n")
        (media / "avatars/2026/12/cv.pdf").write_bytes(b"%PDF-1.4")  # as an admin's upload may be named
        (media / "page.html").write_text("<script>alert(1)</script>")
        with urllib.request.urlopen(base + "/media/avatars/2026/12/ada.png", timeout=5) as response:
            assert response.headers["Content-Type"] == "image/png"
            assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
        for other in ("/media/avatars/2026/12/cv.pdf", "/media/page.html", "/media/../secret_key"):
            assert http_get(base + other)[0] in (400, 404), other
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
    assert proc.returncode == 0
    assert not answers(base + "/"), "nginx stopped with the site"


def assert_pages_cached_for_visitors_without_cookies_only(base: str) -> None:
    """nginx keeps a page a second for visitors without cookies; with any cookie, or for a response
    that sets one, nothing is served from its cache or stored in it."""
    def cache_status(path: str, **headers) -> tuple[str, str]:
        request = urllib.request.Request(base + path, headers=headers)
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.headers["X-Cache-Status"], response.headers.get("Set-Cookie", "")

    seen = [cache_status("/hot/")[0] for _ in range(3)]
    assert seen[0] in ("MISS", "EXPIRED", "HIT") and "HIT" in seen[1:], seen
    assert cache_status("/hot/", Cookie="sessionid=abc")[0] == "BYPASS"
    _, cookie = cache_status("/accounts/login/")
    assert "csrftoken" in cookie and cache_status("/accounts/login/")[0] != "HIT", "a CSRF token is nobody else's"
    time.sleep(2.1)  # nginx counts whole seconds: "1s" keeps a page 1 to 2 s
    assert cache_status("/hot/")[0] in ("MISS", "EXPIRED"), "kept a second or two, no longer"
