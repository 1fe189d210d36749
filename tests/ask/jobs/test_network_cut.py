"""A network cut between a job's host and PostgreSQL, done for real: the job runs in a network
namespace of its own that reaches the database through a veth pair, and the link is taken down.
Without keepalives and a TCP user timeout its connections would hang for a quarter of an hour."""
import os
import socket
import subprocess
import threading
import time

import pytest
from django.db import connection

from ask.jobs.models import JobRun
from tests.jobapp.models import SampleRow
from tests.support import PYTHON, ROOT, process_env, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(os.getuid() != 0, reason="network namespaces need root")]


class Forwarder:
    """Listens on address:port and pipes every connection to PostgreSQL on 127.0.0.1."""

    def __init__(self, address: str, target_port: int) -> None:
        self.server = socket.create_server((address, 0))
        self.port = self.server.getsockname()[1]
        self.target_port = target_port
        self.upstreams: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            self.upstreams.append(upstream)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        """Ends the PostgreSQL side of every connection too. A server whose client vanished behind a
        cut keeps the session, and its advisory locks, until its own TCP keepalive gives up (2 h by
        default); the next tests must not find the job locked."""
        self.server.close()
        ports = [upstream.getsockname()[1] for upstream in self.upstreams if upstream.fileno() != -1]
        for upstream in self.upstreams:
            try:
                upstream.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            upstream.close()

        def sessions_gone() -> bool:
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE client_port = ANY(%s)", [ports])
                return cursor.fetchone()[0] == 0

        if ports:
            wait_for(sessions_gone, 10, what="the cut sessions to end on the server")


@pytest.fixture
def far_host():
    """A "host" (network namespace) whose only way to PostgreSQL is a veth link; cut() takes it down."""
    name = f"askcut{os.getpid() % 100000}"
    net = f"10.213.{os.getpid() % 250}"
    outside, inside = f"{name}o", f"{name}i"

    def ip(*args: str, netns: bool = False) -> None:
        subprocess.run(["ip", *(["netns", "exec", name, "ip"] if netns else []), *args], check=True,
                       capture_output=True)

    ip("netns", "add", name)
    forwarder = None
    try:
        ip("link", "add", outside, "type", "veth", "peer", "name", inside)
        ip("link", "set", inside, "netns", name)
        ip("addr", "add", f"{net}.1/30", "dev", outside)
        ip("link", "set", outside, "up")
        ip("addr", "add", f"{net}.2/30", "dev", inside, netns=True)
        ip("link", "set", inside, "up", netns=True)
        ip("link", "set", "lo", "up", netns=True)
        forwarder = Forwarder(f"{net}.1", int(connection.settings_dict["PORT"] or 5432))
        db = connection.settings_dict
        yield {
            "url": f"postgres://{db['USER'] or 'postgres'}@{net}.1:{forwarder.port}/{db['NAME']}",
            "run": ["ip", "netns", "exec", name],
            "cut": lambda: ip("link", "set", outside, "down"),
        }
    finally:
        if forwarder:
            forwarder.close()
        subprocess.run(["ip", "netns", "del", name], capture_output=True)
        subprocess.run(["ip", "link", "del", outside], capture_output=True)


def test_a_network_cut_mid_run_ends_the_run_in_one_line_instead_of_hanging(var_dir, far_host):
    env = process_env(var_dir, DATABASE_URL=far_host["url"], MEMCACHED_SERVERS="", ASK_HOSTNAME="far")
    proc = subprocess.Popen([*far_host["run"], PYTHON, str(ROOT / "manage.py"), "sample_job", "--rows", "30",
                             "--batch-size", "1", "--sleep", "90", "--write"],
                            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: SampleRow.objects.filter(pid__gt=0).count() >= 2, 30, what="the far run writing")
        far_host["cut"]()
        cut_at, written = time.monotonic(), SampleRow.objects.count()
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 1
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert "lost its lock" in err or "database connection lost" in err, err
    # Noticed within the lock check and the 10 s TCP user timeout, then 30 s of trying to record the
    # end; a connection without them would hang for about 15 minutes.
    assert time.monotonic() - cut_at < 75
    assert SampleRow.objects.count() == written, "nothing written after the cut"
    assert JobRun.objects.get(host="far").status == "running", "its end could not be recorded: shown dead later"
