"""Delivery of a finished briefing: email (SMTP), an Obsidian vault note, and the Atom feed.

Pipeline position: after ``newsdesk brief`` (CLI or the daily schedule) saved a
briefing, :func:`deliver_briefing` sends it through every channel enabled in
``[delivery]``; ``newsdesk deliver --date`` re-sends an archived one. The web
app serves :func:`atom_feed` at ``/briefings.xml``.

* Email: ``email.message.EmailMessage`` with a text/plain part (the Markdown
  rendering) and a text/html alternative (the email-safe HTML rendering);
  STARTTLS when ``delivery.email.starttls``; credentials only from the env vars
  named by ``username_env`` / ``password_env``.
* Vault: ``<vault.path>/<vault.folder>/YYYY-MM-DD.md``, written atomically
  (temp file + fsync + ``os.replace``) so Obsidian never sees half a note.
* Atom: RFC 4287 via ``xml.etree`` (well-formed by construction), one entry per
  archived briefing.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from html import escape
from pathlib import Path
from typing import Any

from newsdesk.config import Config, EmailConfig, VaultConfig
from newsdesk.fsutil import atomic_write


@dataclass
class DeliveryResult:
    channel: str  # email | vault
    ok: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _render_markdown(b: dict[str, Any]) -> str:
    from newsdesk.render import render_markdown

    return render_markdown(b)


def _render_html(b: dict[str, Any]) -> str:
    from newsdesk.render import render_html

    return render_html(b)


# --- email ------------------------------------------------------------------------

def build_email(b: dict[str, Any], cfg: EmailConfig) -> EmailMessage:
    """The briefing as a multipart/alternative message: text/plain first, text/html preferred."""
    msg = EmailMessage()
    msg["Subject"] = f"Morning briefing — {b['date']}"
    msg["From"] = cfg.sender
    msg["To"] = ", ".join(cfg.to)
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = make_msgid(domain=cfg.sender.rpartition("@")[2] or "newsdesk.local")
    msg.set_content(_render_markdown(b), subtype="plain", charset="utf-8")
    msg.add_alternative(_render_html(b), subtype="html", charset="utf-8")
    return msg


def send_email(b: dict[str, Any], cfg: EmailConfig, *, timeout: float = 30.0) -> DeliveryResult:
    """Send over SMTP (STARTTLS when configured; login only when both credential env vars are set)."""
    if not cfg.to:
        return DeliveryResult("email", False, "delivery.email.to is empty")
    msg = build_email(b, cfg)
    user = os.environ.get(cfg.username_env or "", "")
    password = os.environ.get(cfg.password_env or "", "")
    try:
        with smtplib.SMTP(cfg.host, cfg.port, timeout=timeout) as smtp:
            smtp.ehlo()
            if cfg.starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if user and password:
                smtp.login(user, password)
            refused = smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as e:
        return DeliveryResult("email", False, f"SMTP {cfg.host}:{cfg.port}: {e}")
    if refused:
        return DeliveryResult("email", False, f"refused recipients: {', '.join(refused)}")
    return DeliveryResult("email", True, f"sent to {', '.join(cfg.to)} via {cfg.host}:{cfg.port}")


# --- vault ------------------------------------------------------------------------------

def vault_note_path(cfg: VaultConfig, date: str) -> Path:
    if not cfg.path:
        raise ValueError("delivery.vault.path is not set")
    return Path(cfg.path).expanduser() / (cfg.folder or "") / f"{date}.md"


def write_vault(b: dict[str, Any], cfg: VaultConfig) -> DeliveryResult:
    try:
        path = vault_note_path(cfg, b["date"])
        atomic_write(path, _render_markdown(b))
    except (OSError, ValueError) as e:
        return DeliveryResult("vault", False, str(e))
    return DeliveryResult("vault", True, f"wrote {path}")


# --- all channels ---------------------------------------------------------------------------

def deliver_briefing(config: Config, b: dict[str, Any]) -> list[DeliveryResult]:
    """Send ``b`` through every enabled channel; a failing channel does not stop the others."""
    out: list[DeliveryResult] = []
    if config.delivery.email.enabled:
        out.append(send_email(b, config.delivery.email))
    if config.delivery.vault.enabled:
        out.append(write_vault(b, config.delivery.vault))
    return out


# --- Atom ----------------------------------------------------------------------------------

ATOM_NS = "http://www.w3.org/2005/Atom"


def _rfc3339(ts: str | None) -> str:
    if not ts:
        return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        dt = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _entry_html(b: dict[str, Any], base_url: str) -> str:
    """A compact HTML digest of a briefing (escaped text; ElementTree escapes it again as XML)."""
    parts: list[str] = []
    for sec in b.get("sections") or []:
        stories = sec.get("stories") or []
        errors = sec.get("errors") or []
        if not stories and not errors:
            continue
        parts.append(f"<h3>{escape((sec.get('emoji') or '') + ' ' + sec['name']).strip()}</h3>")
        for err in errors:
            text = err if isinstance(err, str) else f"{err.get('feed', 'feed')} — {err.get('error', '')}"
            if not text.lower().startswith("feed unavailable"):
                text = f"Feed unavailable: {text}"
            parts.append(f"<p><em>{escape(text)}</em></p>")
        if stories:
            parts.append("<ul>")
            for st in stories:
                link = f"{base_url}/briefings/{b['date']}/stories/{st['id']}"
                parts.append(f"<li><a href=\"{escape(link)}\">{escape(st.get('title') or '')}</a>"
                             f"{(' — ' + escape(st['summary'])) if st.get('summary') else ''}</li>")
            parts.append("</ul>")
    return "\n".join(parts) or "<p>No new stories.</p>"


def atom_feed(store: Any, *, base_url: str, limit: int = 30) -> bytes:
    """Atom 1.0 document of the latest ``limit`` briefings (one entry per date, its latest run)."""
    from newsdesk.store.briefings import get_briefing, list_briefings

    ET.register_namespace("", ATOM_NS)
    q = lambda t: f"{{{ATOM_NS}}}{t}"  # noqa: E731
    feed = ET.Element(q("feed"))
    ET.SubElement(feed, q("title")).text = "newsdesk briefings"
    ET.SubElement(feed, q("id")).text = f"{base_url}/briefings.xml"
    ET.SubElement(feed, q("link"), rel="self", type="application/atom+xml", href=f"{base_url}/briefings.xml")
    ET.SubElement(feed, q("link"), rel="alternate", type="text/html", href=f"{base_url}/")
    author = ET.SubElement(feed, q("author"))
    ET.SubElement(author, q("name")).text = "newsdesk"
    ET.SubElement(feed, q("generator")).text = "newsdesk"
    updated = ET.SubElement(feed, q("updated"))
    rows = list_briefings(store)
    seen: set[str] = set()
    newest = None
    for row in rows:
        if row["date"] in seen:
            continue
        seen.add(row["date"])
        if len(seen) > limit:
            break
        b = get_briefing(store, row["date"])
        if b is None:
            continue
        ts = _rfc3339(b.get("generated_at") or row.get("generated_at"))
        newest = max(newest or ts, ts)
        e = ET.SubElement(feed, q("entry"))
        n = sum(len(s.get("stories") or []) for s in b.get("sections") or [])
        try:
            day = datetime.strptime(b["date"], "%Y-%m-%d").strftime("%A %d %B %Y")
        except ValueError:
            day = b["date"]
        ET.SubElement(e, q("title")).text = f"Briefing for {day} ({n} stories)"
        ET.SubElement(e, q("id")).text = f"{base_url}/briefings/{b['date']}"
        ET.SubElement(e, q("link"), rel="alternate", type="text/html", href=f"{base_url}/briefings/{b['date']}")
        ET.SubElement(e, q("updated")).text = ts
        ET.SubElement(e, q("published")).text = ts
        content = ET.SubElement(e, q("content"), type="html")
        content.text = _entry_html(b, base_url)
    updated.text = newest or _rfc3339(None)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="utf-8", xml_declaration=False)
