"""--profile FILE on every job: a cProfile of the run, also when it fails; a bad path refused first."""
import os
import pstats

import pytest

from ask.jobs.models import JobRun
from tests.support import manage, process_env

pytestmark = pytest.mark.django_db(transaction=True)


def test_profile_writes_a_profile_of_the_run_that_pstats_reads(var_dir):
    target = var_dir / "sample.prof"
    result = manage("sample_job", "--rows", "3", "--profile", str(target), env=process_env(var_dir))
    assert result.returncode == 0, result.stderr
    assert f"profile written to {target}" in result.stdout
    functions = {name for (_, _, name) in pstats.Stats(str(target)).stats}
    assert "_one_pass" in functions, "the job's own code is in it"
    assert JobRun.objects.get().arguments["profile"] == str(target)


def test_a_failing_run_still_writes_its_profile(var_dir):
    target = var_dir / "failed.prof"
    result = manage("sample_job", "--fail", "--profile", str(target), env=process_env(var_dir))
    assert result.returncode == 1 and target.exists()


def test_a_profile_path_in_a_missing_folder_is_refused_before_the_run(var_dir):
    result = manage("calc_sidebar", "--profile", str(var_dir / "nowhere" / "x.prof"), env=process_env(var_dir))
    assert result.returncode == 2 and "--profile" in result.stderr and "does not exist" in result.stderr
    assert not JobRun.objects.exists()


@pytest.mark.skipif(os.getuid() != 0, reason="as root /proc passes the writable check and then refuses the file")
def test_a_profile_that_cannot_be_written_is_said_in_one_line_and_the_run_keeps_its_outcome(var_dir):
    result = manage("sample_job", "--profile", "/proc/ask-test.prof", env=process_env(var_dir))
    assert result.returncode == 0 and JobRun.objects.get().status == "ok", "the work was done"
    assert result.stderr.strip() == ("sample_job: profile not written: [Errno 2] No such file or directory: "
                                     "'/proc/ask-test.prof'")
