"""The web pages as files and as the local stack serves them: Indonesian, every input labelled,
the provinces the API knows, the API's address from configuration, and nothing else on show."""

from __future__ import annotations

import csv
import json
import re
import socket
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
import requests

from devstack.web import WEB_DIR, WebServer

PROVINCES_CSV = Path(__file__).resolve().parents[2] / "chalicelib" / "core" / "provinces.csv"
PAGES = (WEB_DIR / "index.html", WEB_DIR / "dashboard" / "index.html")
API = "http://127.0.0.1:8000"
UPLOADS = "http://127.0.0.1:5000"


class Controls(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.html_lang: str | None = None
        self.controls: list[str] = []
        self.labelled: set[str] = set()
        self._label_depth = 0
        self.wrapped = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "html":
            self.html_lang = attributes.get("lang")
        if tag == "label":
            self._label_depth += 1
            if attributes.get("for"):
                self.labelled.add(str(attributes["for"]))
        if tag in ("input", "select", "textarea"):
            if self._label_depth:
                self.wrapped += 1
            else:
                self.controls.append(str(attributes.get("id")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._label_depth -= 1


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.parent.name)
def test_each_page_is_indonesian_and_every_control_has_a_label(page: Path) -> None:
    parsed = Controls()
    parsed.feed(page.read_text(encoding="utf-8"))

    assert parsed.html_lang == "id"
    assert parsed.controls
    assert [control for control in parsed.controls if control not in parsed.labelled] == []


def test_the_pages_know_the_provinces_the_api_knows() -> None:
    script = (WEB_DIR / "assets" / "provinces.js").read_text(encoding="utf-8")
    listed = re.findall(r'\["(\d+)", ("[^"]*")\]', script)
    with PROVINCES_CSV.open(encoding="utf-8") as rows:
        known = [(row["code"], row["name"]) for row in csv.DictReader(rows)]

    assert [(code, json.loads(name)) for code, name in listed] == known


def test_no_page_writes_markup_from_data() -> None:
    """Names and titles come from participants and platforms: text nodes only, never innerHTML."""
    scripts = "".join(path.read_text(encoding="utf-8") for path in (WEB_DIR / "assets").glob("*.js"))

    assert re.findall(r"\.(?:innerHTML|outerHTML|insertAdjacentHTML)\b|document\.write", scripts) == []


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def site() -> Iterator[str]:
    server = WebServer("127.0.0.1", _free_port(), API, UPLOADS)
    yield server.url
    server.close()


def test_the_site_serves_both_pages_and_tells_them_where_the_api_is(site: str) -> None:
    public = requests.get(f"{site}/", timeout=5)
    dashboard = requests.get(f"{site}/dashboard", timeout=5)
    config = requests.get(f"{site}/config.json", timeout=5)

    assert (public.status_code, dashboard.status_code) == (200, 200)
    assert "<title>Kartu Prakerja</title>" in public.text
    assert "<title>Dasbor Kartu Prakerja</title>" in dashboard.text
    assert config.json() == {"api_base_url": API, "sign_in": "local"}
    assert f"connect-src 'self' {API} {UPLOADS};" in public.headers["Content-Security-Policy"]
    assert "script-src 'self';" in dashboard.headers["Content-Security-Policy"]


def test_the_site_lists_no_folder_and_serves_nothing_outside_web(site: str) -> None:
    assert requests.get(f"{site}/assets/", timeout=5).status_code == 404
    assert requests.get(f"{site}/../pyproject.toml", timeout=5).status_code == 404
    assert requests.get(f"{site}/assets/format.js", timeout=5).headers["Content-Type"] == "text/javascript"
