"""A job's --profile FILE: its work under cProfile, for an admin asking where a slow run's time went."""
import cProfile
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def profiled(path: str | None, ctx) -> Iterator[None]:
    """The block under cProfile when a path is given, written also when the run fails; ctx is the
    run's JobContext (its name, say() and stderr)."""
    if not path:
        yield
        return
    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        try:
            profile.dump_stats(path)
        except OSError as exc:  # the work is done (or failed) all the same: its outcome stands
            ctx.stderr.write(f"{ctx.name}: profile not written: {exc}")
        else:
            ctx.say(f"{ctx.name}: profile written to {path} (`python -m pstats {path}`, then `sort cumtime`, "
                    "`stats 20`)")
