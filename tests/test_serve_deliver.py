"""Delivery: SMTP (to a local aiosmtpd), Obsidian vault note, Atom feed, ``newsdesk deliver``."""

from __future__ import annotations

import email
import email.policy
import json
import socket
from pathlib import Path
from typing import Any, Iterator

import feedparser
import pytest
from typer.testing import CliRunner

from serve_helpers import client, demo_home, demo_template

from newsdesk.cli.main import app as cli_app
from newsdesk.config import load_config, parse_config
from newsdesk.serve.deliver import deliver_briefing, send_email, write_vault
from newsdesk.store.briefings import latest_briefing
from newsdesk.store.sqlite import open_store


@pytest.fixture(scope="module")
def briefing() -> dict[str, Any]:
    store = open_store(demo_template().db_path)
    try:
        b = latest_briefing(store)
    finally:
        store.close()
    assert b is not None
    return b


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Sink:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[int, _Sink]]:
    from aiosmtpd.controller import Controller

    sink = _Sink()
    port = _free_port()
    ctl = Controller(sink, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        yield port, sink
    finally:
        ctl.stop()


def _email_cfg(port: int) -> Any:
    return parse_config(
        f'[delivery.email]\nenabled = true\nhost = "127.0.0.1"\nport = {port}\nstarttls = false\n'
        f'sender = "desk@example.org"\nto = ["reader@example.org", "second@example.org"]\n'
    )


def test_email_multipart_alternative(smtp: tuple[int, _Sink], briefing: dict[str, Any]) -> None:
    port, sink = smtp
    cfg = _email_cfg(port)
    res = send_email(briefing, cfg.delivery.email)
    assert res.ok, res.detail
    assert len(sink.messages) == 1
    mail_from, rcpts, raw = sink.messages[0]
    assert mail_from == "desk@example.org" and rcpts == ["reader@example.org", "second@example.org"]
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg.get_content_type() == "multipart/alternative"
    assert "2026-11-21" in msg["Subject"]
    parts = {p.get_content_type(): p.get_content() for p in msg.iter_parts()}
    assert set(parts) == {"text/plain", "text/html"}
    story = briefing["sections"][1]["stories"][0]
    assert story["title"] in parts["text/plain"]
    assert "<html" in parts["text/html"].lower() and story["url"] in parts["text/html"]
    assert "Feed unavailable: Vault Threat Notes" in parts["text/plain"]
    # the preferred (last) alternative is the HTML one
    assert list(msg.iter_parts())[-1].get_content_type() == "text/html"


def test_email_failure_is_reported_not_raised(briefing: dict[str, Any]) -> None:
    cfg = _email_cfg(_free_port())  # nothing listens there
    res = send_email(briefing, cfg.delivery.email)
    assert not res.ok and "SMTP 127.0.0.1" in res.detail


def test_email_starttls_requested(briefing: dict[str, Any], smtp: tuple[int, _Sink]) -> None:
    """With starttls = true and a server that does not offer it, sending fails instead of going out in clear."""
    port, sink = smtp
    cfg = _email_cfg(port)
    cfg.delivery.email.starttls = True
    res = send_email(briefing, cfg.delivery.email)
    assert not res.ok and "STARTTLS" in res.detail.upper()
    assert sink.messages == []


def test_email_credentials_from_env(monkeypatch: pytest.MonkeyPatch, briefing: dict[str, Any]) -> None:
    """Login uses the env vars named in the config; the password never appears in the message."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    seen: list[tuple[bytes, bytes]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        seen.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"pw-from-env")

    sink = _Sink()
    port = _free_port()
    ctl = Controller(sink, hostname="127.0.0.1", port=port, authenticator=authenticator, auth_require_tls=False)
    ctl.start()
    try:
        cfg = _email_cfg(port).delivery.email
        cfg.username_env, cfg.password_env = "TEST_SMTP_USER", "TEST_SMTP_PW"
        monkeypatch.setenv("TEST_SMTP_USER", "desk")
        monkeypatch.setenv("TEST_SMTP_PW", "pw-from-env")
        res = send_email(briefing, cfg)
        assert res.ok, res.detail
        assert seen == [(b"desk", b"pw-from-env")]
        assert b"pw-from-env" not in sink.messages[0][2]
        monkeypatch.setenv("TEST_SMTP_PW", "wrong")
        assert not send_email(briefing, cfg).ok
    finally:
        ctl.stop()


def test_vault_note_atomic(tmp_path: Path, briefing: dict[str, Any]) -> None:
    cfg = parse_config(f'[delivery.vault]\nenabled = true\npath = "{tmp_path / "vault"}"\nfolder = "Daily/Briefings"\n')
    res = write_vault(briefing, cfg.delivery.vault)
    assert res.ok, res.detail
    note = tmp_path / "vault" / "Daily" / "Briefings" / "2026-11-21.md"
    text = note.read_text(encoding="utf-8")
    from newsdesk.render import render_markdown

    assert text == render_markdown(briefing)
    assert [p.name for p in note.parent.iterdir()] == ["2026-11-21.md"]  # no temp files left
    again = write_vault(briefing, cfg.delivery.vault)
    assert again.ok and note.read_text(encoding="utf-8") == text


def test_deliver_all_channels(tmp_path: Path, smtp: tuple[int, _Sink], briefing: dict[str, Any]) -> None:
    port, sink = smtp
    cfg = parse_config(
        f'[delivery.email]\nenabled = true\nhost = "127.0.0.1"\nport = {port}\nstarttls = false\nto = ["a@example.org"]\n'
        f'[delivery.vault]\nenabled = true\npath = "{tmp_path}"\n'
    )
    results = deliver_briefing(cfg, briefing)
    assert [(r.channel, r.ok) for r in results] == [("email", True), ("vault", True)]
    assert deliver_briefing(parse_config(""), briefing) == []


def test_cli_deliver(tmp_path: Path, smtp: tuple[int, _Sink]) -> None:
    port, sink = smtp
    vault = tmp_path / "vault"
    home = demo_home(tmp_path, extra_toml=(
        f'[delivery.email]\nenabled = true\nhost = "127.0.0.1"\nport = {port}\nstarttls = false\nto = ["a@example.org"]\n'
        f'[delivery.vault]\nenabled = true\npath = "{vault}"\n'))
    load_config(home.config_path)
    res = CliRunner().invoke(cli_app, ["--home", str(home.root), "deliver", "--date", "2026-11-21", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert [r["channel"] for r in out] == ["email", "vault"] and all(r["ok"] for r in out)
    assert (vault / "Briefings" / "2026-11-21.md").exists()
    assert len(sink.messages) == 1
    res = CliRunner().invoke(cli_app, ["--home", str(home.root), "deliver", "--date", "1999-01-01"])
    assert res.exit_code == 2 and "no briefing" in res.output


def test_atom_feed_valid(briefing: dict[str, Any]) -> None:
    c = client(demo_template())
    r = c.get("/briefings.xml")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(r.content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.title == "newsdesk briefings"
    assert len(parsed.entries) == 1
    e = parsed.entries[0]
    assert e.link == "http://testserver/briefings/2026-11-21"
    assert e.id and e.updated_parsed
    html = e.content[0].value
    story = briefing["sections"][1]["stories"][0]
    assert story["title"] in html and "Feed unavailable: Vault Threat Notes" in html
    # markup inside titles stays text inside the entry
    assert "<script>" not in html
