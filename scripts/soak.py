"""scripts/bench soak: the site served as in production (nginx in front of gunicorn, the configuration
`scripts/run --nginx` uses) under anonymous visitors (wrk), logged-in members reading and voting,
clients that connect and send nothing or trickle, and each job in turn, back to back. Per phase:
anonymous req/s against the idle figure of the same run, the members' p50/p99, errors and timeouts.
Everything on 127.0.0.1; each phase lasts BENCH_SOAK_SECONDS (default 8), a job's phase at least
one whole run of it."""
import os
import random
import re
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PHASE_SECONDS = float(os.environ.get("BENCH_SOAK_SECONDS", "8"))
MEMBERS = 6
SILENT, TRICKLING = 50, 20
MEMBER_TIMEOUT = 5  # seconds: a member's request not answered by then is a timeout
# Seconds a member pauses after each request. 0 is a loop as fast as the site answers: six such
# members alone keep both cores of these machines busy (≈ 130 uncached requests/s).
THINK_SECONDS = float(os.environ.get("BENCH_SOAK_THINK", "0.2"))


def _production(var: Path) -> tuple[list[subprocess.Popen], str]:
    """gunicorn on a socket and nginx in front, as scripts/run --nginx starts them."""
    run = var / "run"
    run.mkdir(parents=True, exist_ok=True)
    (run / "gunicorn.sock").unlink(missing_ok=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    conf = (ROOT / "scripts/nginx.conf").read_text().replace("access_log /dev/stdout combined;", "access_log off;")
    owner = var.owner()
    for name, value in {"@USER@": f"user {owner};" if os.getuid() == 0 else "",
                        "@UPSTREAM@": f"server unix:{run}/gunicorn.sock fail_timeout=0;", "@RUN@": str(run),
                        "@LISTEN@": f"127.0.0.1:{port}", "@STATIC@": str(var / "static"),
                        "@MEDIA@": str(var / "media")}.items():
        conf = conf.replace(name, value)
    (run / "nginx.conf").write_text(conf)
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    procs = [
        subprocess.Popen([str(ROOT / ".venv/bin/gunicorn"), "ask.wsgi", "--config",
                          str(ROOT / "scripts/gunicorn.conf.py"), "--bind", f"unix:{run}/gunicorn.sock"],
                         env={**os.environ, "ASK_TRUSTED_PROXIES": "1"}, cwd=ROOT, **quiet),
        subprocess.Popen(["nginx", "-c", str(run / "nginx.conf"), "-e", "stderr"], cwd=ROOT, **quiet),
    ]
    base = f"http://127.0.0.1:{port}"
    wait_answering(base + "/")
    return procs, base


def wait_answering(url: str, seconds: float = 30) -> None:
    """Until the server just started answers url (or seconds have passed: the figures will say)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.2)


class Members:
    """MEMBERS logged-in members in threads, each reading a question page and voting on it in a loop;
    latencies and outcomes are kept per phase."""

    def __init__(self, base: str, question_ids: list[int]) -> None:
        from django.contrib.auth import get_user_model
        from django.test import Client

        self.base, self.question_ids, self.phase = base, question_ids, "warm-up"
        self.results: dict[str, list[tuple[float, str]]] = {}
        self.stop = threading.Event()
        self.sessions = []
        for n in range(MEMBERS):
            client = Client()
            stamp = time.time_ns()
            client.force_login(get_user_model().objects.create_user(
                f"soak{n}-{stamp}@example.com", f"soak{n}-{stamp}", password=f"soak-{stamp}-pass"))
            self.sessions.append(client.cookies["sessionid"].value)
        self.threads = [threading.Thread(target=self._member, args=(s,), daemon=True) for s in self.sessions]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def _request(self, url: str, data: bytes | None, headers: dict) -> tuple[str, str]:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers),
                                        timeout=MEMBER_TIMEOUT) as response:
                return "ok", " ".join(response.headers.get_all("Set-Cookie") or [])
        except urllib.error.HTTPError as error:
            return ("busy" if error.code == 503 else "ok" if error.code < 500 else "error"), ""
        except (TimeoutError, socket.timeout):
            return "timeout", ""
        except OSError as error:
            return ("timeout" if "timed out" in str(error) else "error"), ""

    def _member(self, session: str) -> None:
        csrf = ""
        while not self.stop.is_set():
            question = random.choice(self.question_ids)
            cookies = f"sessionid={session}" + (f"; csrftoken={csrf}" if csrf else "")
            started = time.monotonic()
            outcome, set_cookie = self._request(f"{self.base}/q/{question}/", None, {"Cookie": cookies})
            self._note(started, outcome)
            time.sleep(THINK_SECONDS)
            csrf = csrf or (re.search(r"csrftoken=([^;]+)", set_cookie) or [None, ""])[1]
            if not csrf:
                continue
            body = urllib.parse.urlencode({"value": random.choice(["1", "-1", "0"]),
                                           "csrfmiddlewaretoken": csrf}).encode()
            started = time.monotonic()
            outcome, _ = self._request(f"{self.base}/vote/question/{question}/", body,
                                       {"Cookie": f"sessionid={session}; csrftoken={csrf}",
                                        "Accept": "application/json"})
            self._note(started, outcome)
            time.sleep(THINK_SECONDS)

    def _note(self, started: float, outcome: str) -> None:
        self.results.setdefault(self.phase, []).append((time.monotonic() - started, outcome))


def _wrk(base: str, seconds: float) -> tuple[int, float, int]:
    """Anonymous visitors on /: (requests, seconds, socket errors and non-2xx/3xx answers)."""
    out = subprocess.run(["wrk", "-t1", "-c8", f"-d{max(1, round(seconds))}s", "--timeout", "5s", base + "/"],
                         capture_output=True, text=True).stdout
    requests = int(re.search(r"(\d+) requests in ([\d.]+)(m?s)", out).group(1))
    took = re.search(r"requests in ([\d.]+)(m?s)", out)
    seconds_taken = float(took.group(1)) / (1000 if took.group(2) == "ms" else 1)
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return requests, seconds_taken, errors + (int(bad.group(1)) if bad else 0)


def _slow_clients(port: int) -> list[socket.socket]:
    silent = [socket.create_connection(("127.0.0.1", port)) for _ in range(SILENT)]
    trickling = [socket.create_connection(("127.0.0.1", port)) for _ in range(TRICKLING)]
    for connection in trickling:
        connection.sendall(b"GET / HTTP/1.1\r\nHost: soak\r\n")
    return silent + trickling


def _phase(name: str, base: str, members: Members, job: list[str] | None, env: dict) -> dict:
    """Anonymous load for PHASE_SECONDS, and for a job, until its last run ended; jobs back to back."""
    members.phase = name
    requests = errors = 0
    seconds = 0.0
    started, runs, failed = time.monotonic(), 0, 0
    proc = None
    while True:
        if job and (proc is None or proc.poll() is not None):
            if proc is not None:
                runs, failed = runs + 1, failed + (proc.returncode != 0)
            proc = (subprocess.Popen([str(ROOT / "scripts/cron-job"), *job], cwd=ROOT, env=env,  # as cron runs it
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    if time.monotonic() - started < PHASE_SECONDS else None)
        if time.monotonic() - started >= PHASE_SECONDS and proc is None:
            break
        got, took, bad = _wrk(base, 2)
        requests, seconds, errors = requests + got, seconds + took, errors + bad
        if not job and time.monotonic() - started >= PHASE_SECONDS:
            break
    times = sorted(t for t, _ in members.results.get(name, []))
    outcomes = [o for _, o in members.results.get(name, [])]
    return {"name": name, "rps": requests / seconds, "errors": errors, "runs": runs, "failed": failed,
            "p50": statistics.median(times) * 1000 if times else 0,
            "p99": times[int(len(times) * 0.99) - 1] * 1000 if times else 0,
            "member requests": len(outcomes), "member errors": outcomes.count("error"),
            "busy": outcomes.count("busy"), "timeouts": outcomes.count("timeout")}


def bench_soak() -> None:
    """The site under anonymous visitors, members writing, slow clients and every job in turn (issue: load)."""
    from django.conf import settings
    from django.core.management import call_command

    from ask.qa.models import Question

    if not Question.objects.exists():
        call_command("fill_db", os.environ.get("BENCH_SOAK_RATIO", "1000"), "--seed", "1", stdout=StringIO())
    call_command("fill_orders", "200", "--seed", "1", stdout=StringIO())
    call_command("collectstatic", interactive=False, verbosity=0)
    call_command("calc_sidebar", stdout=StringIO())
    work = Path(tempfile.mkdtemp(prefix="ask-soak-"))
    call_command("export_data", "votes", "--output", str(work / "votes.csv"), stdout=StringIO())
    env = {**os.environ, "BACKUP_DIR": str(work / "backups")}
    procs, base = _production(Path(settings.VAR_DIR))
    members = Members(base, list(Question.objects.order_by("-id").values_list("pk", flat=True)[:2000]))
    jobs = [["recalc_ratings"], ["calc_sidebar"], ["calc_stats"], ["cleanup_activations"],
            ["import_data", "votes", str(work / "votes.csv")], ["backup_db"], ["verify_backup"],
            ["process_orders"], ["send_queued_mail"]]
    try:
        idle = _phase("idle (anonymous only)", base, members, None, env)
        rows = [idle]
        members.start()
        rows.append(_phase("members reading and voting", base, members, None, env))
        slow = _slow_clients(int(base.rsplit(":", 1)[1]))
        rows.append(_phase(f"+ {SILENT} silent, {TRICKLING} trickling clients", base, members, None, env))
        for connection in slow:
            connection.close()
        for job in jobs:
            rows.append(_phase(f"+ {job[0]}", base, members, job, env))
    finally:
        members.stop.set()
        for proc in procs:
            proc.terminate()
            proc.wait(10)
    print(f"  {PHASE_SECONDS:g} s a phase (a job's: until its last run ended); anonymous wrk -c8 on /, "
          f"{MEMBERS} members reading a question and voting ({THINK_SECONDS:g} s between requests), through nginx")
    print("  goals: anonymous >= 0.8 of idle, members' p99 < 200 ms, 0 errors, 0 timeouts")
    print(f"  {'phase':<40} {'anon req/s':>10} {'of idle':>7} {'p50 ms':>7} {'p99 ms':>7} {'member':>7} "
          f"{'errors':>6} {'busy':>5} {'t/o':>4} {'runs':>5}")
    for row in rows:
        print(f"  {row['name']:<40} {row['rps']:>10,.0f} {row['rps'] / idle['rps']:>7.2f} {row['p50']:>7.1f} "
              f"{row['p99']:>7.1f} {row['member requests']:>7} {row['errors'] + row['member errors']:>6} "
              f"{row['busy']:>5} {row['timeouts']:>4} {row['runs']:>3}{'!' if row['failed'] else ' ':1}")
