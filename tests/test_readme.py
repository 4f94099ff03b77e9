"""The README keeps up with the code: every setting and every command is documented."""

from __future__ import annotations

from pathlib import Path

from onemap.cli import app as cli_app
from onemap.settings import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_every_setting_is_documented():
    for name in Settings.model_fields:
        assert f"`ONEMAP_{name.upper()}`" in README, name


def test_every_command_is_documented():
    import typer.main

    group = typer.main.get_command(cli_app)
    for name, command in group.commands.items():
        subcommands = getattr(command, "commands", None)
        if subcommands:
            for sub in subcommands:
                assert f"`onemap {name} {sub}" in README, f"{name} {sub}"
        else:
            assert f"`onemap {name}" in README, name


def test_the_two_commands_are_shown():
    assert "make run" in README and "make test" in README


def test_the_role_table_is_the_code():
    from onemap.domain.roles import ROLE_CAPABILITIES, Capability

    lines = [line for line in README.splitlines() if line.startswith("| ")
             and line.split("|")[1].strip() in {c.value for c in Capability}]
    assert len(lines) == len(Capability)
    roles = list(ROLE_CAPABILITIES)
    for line in lines:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        capability, marks = Capability(cells[0]), cells[1:]
        assert [m == "✓" for m in marks] == [capability in ROLE_CAPABILITIES[r] for r in roles]
