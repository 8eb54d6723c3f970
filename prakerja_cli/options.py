"""What every command shares: where the API is, whose token, and how a failure is told."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from prakerja_cli.api import LOCAL_API_URL, Api, CliError

Params = ParamSpec("Params")
Result = TypeVar("Result")


def out() -> Console:
    """Tables and results: stdout, so they can be piped. A console per use, sized to the terminal
    (or `COLUMNS`) of that moment rather than of the import; without markup, since most of what it
    prints is the API's words, where `[revisi]` is text, not a style."""
    return Console(highlight=False, markup=False)


def err() -> Console:
    """Progress, waiting and failures: stderr, apart from the results."""
    return Console(stderr=True, highlight=False)


DEFAULT_API_URL = LOCAL_API_URL

ApiUrl = Annotated[
    str,
    typer.Option(
        "--api-url",
        envvar="PRAKERJA_API_URL",
        help="Alamat dasar API: stack lokal (bawaan) atau stage yang di-deploy.",
    ),
]
# Never shown as a default: `--help` must not print a secret taken from the environment.
Token = Annotated[
    str | None,
    typer.Option(
        "--token", envvar="PRAKERJA_TOKEN", show_default=False, help="Token Bearer (JWT) pemanggil."
    ),
]


def connect(api_url: str, token: str | None, timeout: float = 30.0) -> Api:
    return Api(api_url, token, timeout)


def handled(command: Callable[Params, Result]) -> Callable[Params, Result]:
    """A command whose failures end in one line on stderr and exit status 1, not a traceback."""

    @functools.wraps(command)
    def guarded(*args: Params.args, **kwargs: Params.kwargs) -> Result:
        try:
            return command(*args, **kwargs)
        except CliError as error:
            err().print(f"[bold red]Gagal:[/] {escape(str(error))}", soft_wrap=True)
            raise typer.Exit(1) from None

    return guarded
