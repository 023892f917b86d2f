"""The README stays true: every command, exit code and environment variable is documented."""

from __future__ import annotations

import re

from typer.main import get_command

from sms_audit import config
from sms_audit.cli import app
from sms_audit.errors import ExitCode
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_docs_every_command_has_help_and_a_readme_section() -> None:
    group = get_command(app)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        assert command.help, name
        assert f"### `sms-audit {name}" in README, name


def test_docs_every_exit_code_is_in_the_table() -> None:
    for code in ExitCode:
        assert re.search(rf"^\| {code.value} \| `{code.name}` \|", README, re.MULTILINE), code


def test_docs_every_environment_variable_is_listed() -> None:
    for name in (
        config.ENV_DB,
        config.ENV_CONFIG_DIR,
        config.ENV_REGION,
        config.ENV_FORMAT,
        config.ENV_BACKUP_PASSWORD,
        config.ENV_POLICY,
    ):
        assert f"`{name}`" in README, name


def test_docs_exactly_two_setup_commands_that_use_the_repo_files() -> None:
    section = README[README.index("## Set-up") : README.index("## Usage")]
    commands = re.findall(r"```sh\n(.+?)\n```", section, re.DOTALL)
    assert len(commands) == 2
    assert "sample_data/android-sms-backup.xml" in commands[0] and "sms-audit report" in commands[0]
    assert "'.[test]'" in commands[1] and "pytest" in commands[1]
    assert "python -m pytest -q" in (REPO / ".ci" / "run").read_text(encoding="utf-8")


def test_readme_example_report_is_what_the_tool_prints() -> None:
    """The example near the top of the README is the golden 80-column report, byte for byte."""
    from tests.conftest import GOLDEN

    marker = "<!-- example-report: tests/golden/report-android.80.txt"
    start = README.index("```text\n", README.index(marker)) + len("```text\n")
    block = README[start : README.index("```\n", start)]
    assert block == (GOLDEN / "report-android.80.txt").read_text(encoding="utf-8")
