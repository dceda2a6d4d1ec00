"""Generate the CLI reference (docs/cli.md) from the commands themselves.

``python -m sarbd.cli.reference > docs/cli.md`` rewrites the page; a test checks
that the committed page equals the generated one, so the docs cannot rot.
"""

from __future__ import annotations

import re

import typer

from sarbd.cli import app, load_commands

__all__ = ["markdown"]


def _plain_help(name: str) -> str:
    import click

    load_commands()
    group = typer.main.get_command(app)
    command = group.commands[name] if name else group  # type: ignore[attr-defined]
    # Typer renders help with Rich; click's plain formatting gives a stable, diffable page.
    with click.Context(command, info_name=f"sarbd {name}".strip(), terminal_width=100) as ctx:  # type: ignore[arg-type]
        formatter = click.HelpFormatter(width=100)
        click.Command.format_usage(command, ctx, formatter)  # type: ignore[arg-type]
        formatter.write_paragraph()
        if command.help:
            formatter.write_text(re.sub(r"\s*\n\s*\n\s*", "\n\n", command.help.strip()))
        click.Command.format_options(command, ctx, formatter)  # type: ignore[arg-type]
        return formatter.getvalue().rstrip()


def markdown() -> str:
    """The CLI reference as Markdown: global options, then every command's help."""
    load_commands()
    group = typer.main.get_command(app)
    names = sorted(n for n, c in group.commands.items() if not c.hidden)  # type: ignore[attr-defined]
    parts = [
        "# Command-line reference",
        "",
        "Generated from the commands by `python -m sarbd.cli.reference > docs/cli.md`; do not edit by hand.",
        "A user error prints one line (`sarbd: error: FILE: what went wrong. What to do.`) and exits with",
        "status 2; `--debug` adds the traceback.",
        "",
        "## sarbd",
        "",
        "```text",
        _plain_help(""),
        "```",
    ]
    for name in names:
        parts += ["", f"## sarbd {name}", "", "```text", _plain_help(name), "```"]
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
