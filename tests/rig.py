"""A rig of hosts for the tests marked `hosts`: network namespaces on a bridge of their own, each a
web host with a hostname, a var/ and a cron daemon of its own (its crontab installed with
`manage.py crontab add`) and gunicorn, sharing one environment file, a PostgreSQL cluster, two
memcached servers and an SMTP sink that listen on the bridge, with nginx (scripts/nginx.conf, as
in production) balancing over them. A driver process plays the customers and the site's mail.
Traffic goes only to the rig's own addresses and this machine's loopback. Everything it made is
removed when it stops, also after a failed test."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg2

from tests.conftest import SmtpServer
from tests.support import PYTHON, ROOT, free_port, wait_for

FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"


class CommandFailed(subprocess.CalledProcessError):
    """A rig command that failed, its output in the message (pytest shows str(), not .stderr)."""

    def __str__(self) -> str:
        said = (self.stderr or self.stdout or "").strip()[-2000:]
        return super().__str__() + (f"\n{said}" if said else " It printed nothing.")


def _run(*argv: str, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(list(argv), capture_output=True, text=True, **kwargs)
    if done.returncode:
        raise CommandFailed(done.returncode, done.args, done.stdout, done.stderr)
    return done


class Rig:
    HEALTHZ_TOKEN = "rig-healthz-token"

    def __init__(self, hosts: int = 3) -> None:
        tag = os.getpid() % 200 + 20
        self.net, self.bridge = f"10.{tag}.77", f"askbr{tag}"
        self.names = [f"askh{tag}n{n}" for n in range(1, hosts + 1)]
        self.work = Path(tempfile.mkdtemp(prefix="ask-rig-"))
        self.procs: list[subprocess.Popen] = []
        self.pg_ctl: list[str] = []
        self.anchors: dict[int, subprocess.Popen] = {}
        self.smtp = None
        self.port = free_port()  # nginx, on 127.0.0.1

    def address(self, n: int) -> str:
        """Host n's address (1-based); the bridge itself, where the shared services listen, is .1."""
        return f"{self.net}.{10 + n}"

    def start(self) -> "Rig":
        self._network()
        self._postgres()
        self.memcached, self.memcached_procs = [], []
        for port in (free_port(), free_port()):  # one pool of two servers
            self.memcached.append(f"{self.net}.1:{port}")
            self.memcached_procs.append(None)
            self.start_memcached(len(self.memcached) - 1)
        self.smtp = SmtpServer(hostname=f"{self.net}.1")
        self.smtp.start()
        self._env_file()
        for command in (["migrate", "-v0"], ["collectstatic", "--noinput", "-v0"]):
            _run(PYTHON, str(ROOT / "manage.py"), *command, env={**self.env, "ASK_VAR_DIR": str(self.work / "lb")},
                 cwd=ROOT)
        for n in range(1, len(self.names) + 1):
            self.start_host(n)
        wait_for(lambda: all(self._answers(n) for n in range(1, len(self.names) + 1)), 60, what="the rig's hosts")
        self._nginx()  # after: a host refusing its first connections would be passed over for a while
        return self

    def _env_file(self) -> None:
        """The one environment file of every host (scripts/cron-job reads it for each job)."""
        hosts = len(self.names)
        site = dict(DJANGO_SETTINGS_MODULE="ask.settings", SECRET_KEY="rig-" + "k" * 60,
                    DATABASE_URL=f"postgres://postgres@{self.net}.1:{self.pg_port}/ask",
                    MEMCACHED_SERVERS=",".join(self.memcached), ASK_TRUSTED_PROXIES="1",
                    ALLOWED_HOSTS=",".join(["127.0.0.1", "localhost", *map(self.address, range(1, hosts + 1))]),
                    LOG_LEVEL="WARNING", HEALTHZ_TOKEN=self.HEALTHZ_TOKEN, HEALTHZ_CACHE_SECONDS="0",
                    EMAIL_HOST=f"{self.net}.1", EMAIL_PORT=str(self.smtp.port), EMAIL_USE_TLS="false",
                    MAIL_RETRY_BASE_SECONDS="5", ORDERS_POLL_SECONDS="5", ORDERS_SIM_PICKUP_SECONDS="5",
                    ORDERS_SIM_DELIVERY_SECONDS="5", ORDERS_PLAN_MARGIN_SECONDS="0")
        self.env_path = self.work / "site.env"
        self.env_path.write_text("".join(f"{key}={value}\n" for key, value in site.items()))
        self.env_path.chmod(0o600)
        keep = ("PATH", "HOME", "LANG", "LC_ALL", "TZ")
        self.env = {**{k: v for k, v in os.environ.items() if k in keep}, **site}

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
                       f"-p {self.pg_port} -k {data} -c listen_addresses=127.0.0.1,{self.net}.1 -c fsync=off "
                       # As README "Jobs" asks: a session whose host went silent ends in seconds, with its locks.
                       "-c tcp_keepalives_idle=5 -c tcp_keepalives_interval=2 -c tcp_keepalives_count=2"]
        _run(*self.pg_ctl, "start")
        _run("createdb", "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "postgres", "ask")

    def _spawn(self, argv: list[str], log: Path | None = None, **kwargs) -> subprocess.Popen:
        with (log.open("ab") if log else open(os.devnull, "wb")) as out:
            proc = subprocess.Popen(argv, stdout=out, stderr=out, **kwargs)
        self.procs.append(proc)
        return proc

    def start_host(self, n: int, clock: str | None = None) -> None:
        """Host n: namespaces of its own (network; mounts for its var/, cron spool and /run; its
        hostname), a cron daemon running the site's crontab, gunicorn as on a web host. clock
        ("+40s") runs its cron, jobs and web processes on a clock that far off (libfaketime)."""
        var, spool = self.work / f"host{n}", self.work / f"host{n}-crontabs"
        for folder in (var, spool, self.work / "empty"):
            folder.mkdir(exist_ok=True)
        shutil.chown(spool, "root", "crontab")
        spool.chmod(0o1730)
        (ROOT / "var").mkdir(exist_ok=True)
        mounts = [("tmpfs", "/run"), (spool, "/var/spool/cron/crontabs"), (self.work / "empty", "/etc/cron.d"),
                  (var, ROOT / "var")]
        script = "; ".join(["set -e", *(f"mount -t tmpfs rig {target}" if source == "tmpfs" else
                                         f"mount --bind {source} {target}" for source, target in mounts),
                            f"hostname web{n}", "exec sleep infinity"])
        self.anchors[n] = self._spawn(["ip", "netns", "exec", self.names[n - 1], "unshare", "--mount", "--uts",
                                       "--propagation", "private", "--fork", "sh", "-c", script],
                                      log=self.work / f"host{n}-anchor.log")
        wait_for(lambda: self.on_host(n, "hostname").stdout.strip() == f"web{n}", 10, what=f"host {n}")
        faked = {"LD_PRELOAD": FAKETIME_LIB, "FAKETIME": clock, "FAKETIME_DONT_FAKE_MONOTONIC": "1"} if clock else {}
        prelude = ['MAILTO=""', f"ASK_ENV_FILE={self.env_path}", *(f"{k}={v}" for k, v in faked.items())]
        self.on_host(n, "crontab", "-", input="\n".join(prelude) + "\n")
        self.on_host(n, PYTHON, str(ROOT / "manage.py"), "crontab", "add", env=self.env)
        self._spawn(self._enter(n, "cron", "-f"), log=var / "cron.log", env={**self.env, **faked})
        self._spawn(self._enter(n, str(ROOT / ".venv/bin/gunicorn"), "ask.wsgi", "--config",
                                str(ROOT / "scripts/gunicorn.conf.py"), "--bind", "0.0.0.0:8000",
                                "--access-logfile", str(var / "access.log")),
                    log=var / "gunicorn.log", env={**self.env, **faked}, cwd=ROOT)

    def _enter(self, n: int, *argv: str) -> list[str]:
        return ["nsenter", "-t", str(self.anchors[n].pid), "-n", "-m", "-u", f"--wd={ROOT}", "--", *argv]

    def on_host(self, n: int, *argv: str, **kwargs) -> subprocess.CompletedProcess:
        """argv run on host n, to its end."""
        return _run(*self._enter(n, *argv), cwd=ROOT, **kwargs)

    def cut(self, n: int, off: bool = True) -> None:
        """Host n's link to the bridge down (off) or up again: it reaches nothing, nothing reaches it."""
        _run("ip", "-n", self.names[n - 1], "link", "set", f"{self.names[n - 1]}i", "down" if off else "up")

    def restart_postgres(self) -> None:
        _run(*self.pg_ctl, "restart", "-m", "fast")

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Rows of sql on the rig's database, as an operator's psql would see them."""
        with psycopg2.connect(host=f"{self.net}.1", port=self.pg_port, user="postgres", dbname="ask",
                              connect_timeout=5) as db, db.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall() if cursor.description else []
        db.close()
        return rows

    def start_driver(self) -> None:
        self.driver = self._spawn([PYTHON, str(ROOT / "manage.py"), "shell", "--no-imports", "-c",
                                   "from tests.rig_driver import main; main()"],
                                  log=self.work / "driver.log", env={**self.env, "ASK_VAR_DIR": str(self.work / "lb")},
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
        try:
            return self.healthz(n, token=False) is not None
        except (subprocess.CalledProcessError, ValueError):
            return False

    def healthz(self, n: int, token: bool = True) -> dict | None:
        """Host n's /healthz asked on the host itself (as its monitor would), the checks in full."""
        auth = ["-H", f"Authorization: Bearer {self.HEALTHZ_TOKEN}"] if token else []
        done = self.on_host(n, "curl", "-s", "-m", "20", *auth, "-H", "Host: 127.0.0.1", "http://127.0.0.1:8000/healthz")
        return json.loads(done.stdout) if done.stdout else None

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
        if self.smtp:
            self.smtp.stop()
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
