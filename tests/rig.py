"""A rig of hosts for the tests marked `hosts`: network namespaces on a bridge of their own, each a
web host running gunicorn, sharing a PostgreSQL cluster and two memcached servers that listen on
the bridge, with nginx (scripts/nginx.conf, as in production) balancing over them. Traffic goes
only to the rig's own addresses and this machine's loopback. Everything it made is removed when it
stops, also after a failed test."""
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from tests.support import PYTHON, ROOT, free_port, wait_for


def _run(*argv: str) -> None:
    subprocess.run(list(argv), check=True, capture_output=True)


class Rig:
    HEALTHZ_TOKEN = "rig-healthz-token"

    def __init__(self, hosts: int = 3) -> None:
        tag = os.getpid() % 200 + 20
        self.net, self.bridge = f"10.{tag}.77", f"askbr{tag}"
        self.names = [f"askh{tag}n{n}" for n in range(1, hosts + 1)]
        self.work = Path(tempfile.mkdtemp(prefix="ask-rig-"))
        self.procs: list[subprocess.Popen] = []
        self.pg_ctl: list[str] = []
        self.port = free_port()  # nginx, on 127.0.0.1

    def address(self, n: int) -> str:
        """Host n's address (1-based); the bridge itself, where the shared services listen, is .1."""
        return f"{self.net}.{10 + n}"

    def start(self) -> "Rig":
        hosts = len(self.names)
        self._network()
        self._postgres()
        self.memcached, self.memcached_procs = [], []
        for port in (free_port(), free_port()):  # one pool of two servers
            self.memcached.append(f"{self.net}.1:{port}")
            self.memcached_procs.append(None)
            self.start_memcached(len(self.memcached) - 1)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_SETTINGS"))}
        self.env.update(DJANGO_SETTINGS_MODULE="ask.settings", SECRET_KEY="rig-" + "k" * 60,
                        DATABASE_URL=f"postgres://postgres@{self.net}.1:{self.pg_port}/ask",
                        MEMCACHED_SERVERS=",".join(self.memcached), ASK_TRUSTED_PROXIES="1",
                        ALLOWED_HOSTS=",".join(["127.0.0.1", "localhost", *map(self.address, range(1, hosts + 1))]),
                        LOG_LEVEL="WARNING", HEALTHZ_TOKEN=self.HEALTHZ_TOKEN, HEALTHZ_CACHE_SECONDS="0")
        shared = {**self.env, "ASK_VAR_DIR": str(self.work / "lb")}
        for command in (["migrate", "-v0"], ["collectstatic", "--noinput", "-v0"]):
            subprocess.run([PYTHON, str(ROOT / "manage.py"), *command], env=shared, cwd=ROOT, check=True,
                           capture_output=True)
        for n in range(1, len(self.names) + 1):
            self.start_web(n)
        wait_for(lambda: all(self._answers(n) for n in range(1, len(self.names) + 1)), 60, what="the rig's hosts")
        self._nginx()  # after: a host refusing its first connections would be passed over for a while
        return self

    def _network(self) -> None:
        _run("ip", "link", "add", self.bridge, "type", "bridge")
        _run("ip", "addr", "add", f"{self.net}.1/24", "dev", self.bridge)
        _run("ip", "link", "set", self.bridge, "up")
        for n, name in enumerate(self.names, start=1):
            outside, inside = f"{name}o", f"{name}i"
            _run("ip", "netns", "add", name)
            _run("ip", "link", "add", outside, "type", "veth", "peer", "name", inside)
            _run("ip", "link", "set", inside, "netns", name)
            _run("ip", "link", "set", outside, "master", self.bridge)
            _run("ip", "link", "set", outside, "up")
            _run("ip", "-n", name, "addr", "add", f"{self.address(n)}/24", "dev", inside)
            _run("ip", "-n", name, "link", "set", inside, "up")
            _run("ip", "-n", name, "link", "set", "lo", "up")

    def _postgres(self) -> None:
        """A cluster of the rig's own, listening on the bridge (trusting the rig's subnet only)."""
        bindir = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
        data = self.pg_data = Path(tempfile.mkdtemp(prefix="ask-rig-pg-"))  # its own: the rig's folder is root's
        as_postgres = []
        if os.getuid() == 0:  # initdb refuses root
            shutil.chown(data, "postgres")
            as_postgres = ["runuser", "-u", "postgres", "--"]
        _run(*as_postgres, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
        with (data / "pg_hba.conf").open("a") as hba:
            hba.write(f"host all all {self.net}.0/24 trust\n")
        self.pg_port = free_port()
        self.pg_ctl = [*as_postgres, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(data / "log"), "-w", "-o",
                       f"-p {self.pg_port} -k {data} -c listen_addresses=127.0.0.1,{self.net}.1 -c fsync=off"]
        _run(*self.pg_ctl, "start")
        _run("createdb", "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "postgres", "ask")

    def _spawn(self, argv: list[str], log: Path | None = None, **kwargs) -> subprocess.Popen:
        with (log.open("ab") if log else open(os.devnull, "wb")) as out:
            proc = subprocess.Popen(argv, stdout=out, stderr=out, **kwargs)
        self.procs.append(proc)
        return proc

    def start_web(self, n: int) -> None:
        """gunicorn on host n, as on a web host (scripts/gunicorn.conf.py), its access log in the rig."""
        var = self.work / f"host{n}"
        var.mkdir(exist_ok=True)
        self._spawn(["ip", "netns", "exec", self.names[n - 1], str(ROOT / ".venv/bin/gunicorn"), "ask.wsgi",
                     "--config", str(ROOT / "scripts/gunicorn.conf.py"), "--bind", f"{self.address(n)}:8000",
                     "--access-logfile", str(var / "access.log")],
                    log=var / "gunicorn.log", env={**self.env, "ASK_VAR_DIR": str(var), "ASK_HOSTNAME": f"web{n}"},
                    cwd=ROOT)

    def start_memcached(self, index: int) -> None:
        """The pool's server `index` (0 or 1), on its own address; empty, as after a restart."""
        port = self.memcached[index].rsplit(":", 1)[1]
        self.memcached_procs[index] = self._spawn(["memcached", "-l", f"{self.net}.1", "-p", port, "-U", "0",
                                                   "-m", "32", *(["-u", "root"] if os.getuid() == 0 else [])])

    def stop_memcached(self, index: int) -> None:
        proc = self.memcached_procs[index]
        proc.kill()
        proc.wait(10)

    def served(self, n: int) -> int:
        """Requests host n's gunicorn has answered."""
        log = self.work / f"host{n}" / "access.log"
        return len(log.read_text().splitlines()) if log.exists() else 0

    def kill_host(self, n: int) -> None:
        """kill -9 of everything running on host n."""
        pids = subprocess.run(["ip", "netns", "pids", self.names[n - 1]], capture_output=True, text=True).stdout
        for pid in pids.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass

    def _answers(self, n: int) -> bool:
        done = subprocess.run(["ip", "netns", "exec", self.names[n - 1], "curl", "-s", "-o", "/dev/null", "-w",
                               "%{http_code}", f"http://{self.address(n)}:8000/healthz"],
                              capture_output=True, text=True)
        return done.stdout == "200"

    def _nginx(self) -> None:
        lb = self.work / "lb"
        run = lb / "run"
        run.mkdir(parents=True, exist_ok=True)
        upstream = " ".join(f"server {self.address(n)}:8000 max_fails=1 fail_timeout=10s;"
                            for n in range(1, len(self.names) + 1))
        conf = (ROOT / "scripts/nginx.conf").read_text()
        for name, value in {"@USER@": "user root;" if os.getuid() == 0 else "", "@UPSTREAM@": upstream,
                            "@RUN@": str(run), "@LISTEN@": f"127.0.0.1:{self.port}", "@STATIC@": str(lb / "static"),
                            "@MEDIA@": str(lb / "media")}.items():
            conf = conf.replace(name, value)
        conf = conf.replace("access_log /dev/stdout combined;", "access_log off;")
        (run / "nginx.conf").write_text(conf)
        self._spawn(["nginx", "-c", str(run / "nginx.conf"), "-e", "stderr"], log=lb / "nginx.log")
        wait_for(lambda: subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                         f"http://127.0.0.1:{self.port}/healthz"], capture_output=True,
                                        text=True).stdout == "200", 30, what="the rig's nginx")

    def stop(self) -> None:
        for name in self.names:
            pids = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True).stdout
            for pid in pids.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
        for proc in self.procs:  # SIGTERM first: nginx's master stops its workers then (SIGKILL would orphan them)
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        if self.pg_ctl:
            subprocess.run([*self.pg_ctl, "stop", "-m", "immediate"], capture_output=True)
        time.sleep(0.2)
        for name in self.names:
            subprocess.run(["ip", "netns", "del", name], capture_output=True)
            subprocess.run(["ip", "link", "del", f"{name}o"], capture_output=True)
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True)
        shutil.rmtree(self.work, ignore_errors=True)
        if getattr(self, "pg_data", None):
            shutil.rmtree(self.pg_data, ignore_errors=True)
