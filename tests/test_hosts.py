"""Several hosts for real (tests/rig.py): three web hosts in network namespaces behind nginx, sharing
PostgreSQL and a memcached pool. A host killed outright mid-traffic costs no visitor an error: nginx
passes over it and the others answer."""
import os
import threading
import time
import urllib.error
import urllib.request

import pytest

from tests.rig import Rig
from tests.support import wait_for

pytestmark = [pytest.mark.hosts, pytest.mark.slow,
              pytest.mark.skipif(os.getuid() != 0, reason="network namespaces need root")]


@pytest.fixture(scope="module")
def rig():
    made = Rig(hosts=3)
    try:
        yield made.start()
    finally:
        made.stop()


def fetch(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0  # no answer at all


def test_pages_come_from_every_host_and_a_host_killed_mid_traffic_costs_no_visitor_an_error(rig):
    base = f"http://127.0.0.1:{rig.port}"
    before = [rig.served(n) for n in (1, 2, 3)]
    statuses = [fetch(f"{base}{path}") for path in ("/", "/hot/", "/healthz") * 20]
    assert set(statuses) == {200}, statuses
    assert all(rig.served(n) > before[n - 1] for n in (1, 2, 3)), "nginx balances over the three hosts"

    statuses, stop = [], threading.Event()

    def visitor() -> None:
        while not stop.is_set():
            statuses.append(fetch(f"{base}/"))

    visitors = [threading.Thread(target=visitor) for _ in range(4)]
    for thread in visitors:
        thread.start()
    time.sleep(1)
    rig.kill_host(2)
    killed_at = rig.served(2)
    time.sleep(3)
    stop.set()
    for thread in visitors:
        thread.join(30)
    assert statuses and set(statuses) == {200}, {status: statuses.count(status) for status in set(statuses)}
    assert rig.served(2) == killed_at, "host 2 answers nothing once killed"
    after = [rig.served(n) for n in (1, 3)]
    assert fetch(f"{base}/hot/") == 200 and [rig.served(n) for n in (1, 3)] != after


def healthz(rig, n: int) -> dict:
    """Host n's own /healthz, as a monitor asks it (the token gives the checks in full)."""
    import json
    import subprocess
    done = subprocess.run(["ip", "netns", "exec", rig.names[n - 1], "curl", "-s", "-H", f"Authorization: Bearer "
                           f"{rig.HEALTHZ_TOKEN}", "-H", "Host: 127.0.0.1", f"http://{rig.address(n)}:8000/healthz"],
                          capture_output=True, text=True, timeout=30)
    return json.loads(done.stdout)


def test_a_memcached_server_stopped_only_slows_pages_and_each_host_says_which(rig):
    base = f"http://127.0.0.1:{rig.port}"
    for path in ("/", "/hot/"):
        assert fetch(base + path) == 200
    rig.stop_memcached(0)
    try:
        statuses = [fetch(f"{base}{path}") for path in ("/", "/hot/", "/tag/python/") * 10]
        assert set(statuses) <= {200, 404} and 200 in statuses, statuses
        report = healthz(rig, 1)
        assert report["status"] == "degraded" and not report["checks"]["cache"]["ok"], report
        assert rig.memcached[0] in report["checks"]["cache"]["detail"]
        assert report["checks"]["database"]["ok"]
    finally:
        rig.start_memcached(0)
    time.sleep(0.5)
    assert set(fetch(f"{base}{path}") for path in ("/", "/hot/") * 5) == {200}
    # Back: each host's next asks reach it again (the first may find the socket the restart closed).
    wait_for(lambda: all(healthz(rig, n)["checks"]["cache"]["ok"] for n in (1, 3)), 10, what="both servers again")
