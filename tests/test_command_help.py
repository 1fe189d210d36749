"""Every management command of the site ends its --help with one or two examples, and each example is
a command line its parser accepts (an example that no longer parses is worse than none)."""
import shlex

import pytest
from django.core.management import get_commands, load_command_class

from tests.support import manage, process_env

OURS = sorted((name, app) for name, app in get_commands().items()
              if app.split(".")[0] in ("ask", "orders", "accounts"))


def test_the_site_has_its_commands():
    assert {"backup_db", "export_data", "jobs", "stats", "restaurant_token"} <= {name for name, _ in OURS}


@pytest.mark.parametrize("name,app", OURS, ids=[name for name, _ in OURS])
def test_help_ends_with_examples_that_parse(name, app):
    command = load_command_class(app, name)
    parser = command.create_parser("manage.py", name)
    text = parser.format_help().rstrip()
    block = text.rsplit("\nExamples:\n", 1)
    assert len(block) == 2, f"{name} --help has no Examples: section at its end"
    lines = block[1].splitlines()
    assert 1 <= len(lines) <= 2 and all(line.startswith(f"  manage.py {name}") for line in lines), lines
    for line in lines:
        argv = shlex.split(line.split("#", 1)[0].split("|", 1)[0])[2:]
        parser.parse_args(argv)  # argparse exits (SystemExit) on an example it refuses


def test_help_as_an_admin_sees_it(var_dir):
    result = manage("backup_db", "--help", env=process_env(var_dir))
    assert result.returncode == 0
    assert "over its time limit of 3h (ASK_JOB_TIMEOUT sets another)" in result.stdout
    assert result.stdout.rstrip().splitlines()[-3:] == [
        "Examples:",
        "  manage.py backup_db -v2   # by hand, before a risky change: names the file written",
        "  manage.py backup_db --dry-run   # which old backups rotation would delete",
    ]
