import signal
import threading

from ask.jobs.command import AdminCommand
from ask.jobs.standin import schedule_run


class Command(AdminCommand):
    examples = (
        "   # on a machine without cron (scripts/run starts it)",
    )
    help = (
        "Run settings.CRONJOBS like cron would, in the foreground, for a machine without a crontab "
        "(scripts/run starts it beside the web server). Each minute it starts the due jobs as separate "
        "processes; SIGTERM or Ctrl-C stops it and them. Production uses cron, never this."
    )

    def handle(self, *args, **options) -> None:
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        say = self.stdout.write if options["verbosity"] >= 1 else (lambda message: None)
        say("run_schedule: starting the site's jobs on their cron schedule (Ctrl-C stops)")
        schedule_run(stop=stop, say=say)
