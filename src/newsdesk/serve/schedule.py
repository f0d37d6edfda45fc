"""The daily fetch + brief + deliver job: run lock, catch-up, in-process scheduler, cron/systemd text.

Pipeline position: drives the whole pipeline once a day. Three ways to run it:

* ``newsdesk serve --schedule 06:30`` (or ``serve.schedule_at``): a background
  thread (:class:`Scheduler`) inside the web server;
* cron / a systemd timer calling ``newsdesk schedule --run`` (``--print-cron`` /
  ``--print-systemd`` print the lines);
* by hand, the same command.

Every path goes through :func:`run_daily`, which holds an exclusive
``fcntl.flock`` on ``home.lock_path`` (non-blocking), so two runs never
overlap: the second one stops at once with :class:`LockBusy` and a clear message.
Schedule times are wall-clock times in ``briefing.timezone``. A run missed while
the machine was off (the last successful ``brief`` run in ``runs`` is older
than the most recent due time) is caught up once when the scheduler starts.
"""

from __future__ import annotations

import re
import shlex
import sys
import threading
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

from newsdesk.lock import LockBusy, run_lock  # noqa: F401  (re-exported)
from newsdesk.home import Home

_AT = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def parse_at(text: str) -> time:
    """``"06:30"`` -> ``time(6, 30)``; a clear error otherwise."""
    m = _AT.match((text or "").strip())
    if not m:
        raise ValueError(f"schedule time {text!r}: use HH:MM (24-hour), e.g. 06:30")
    return time(int(m.group(1)), int(m.group(2)))


# --- due times and catch-up -------------------------------------------------------------------

def last_due(now: datetime, at: time, tz: str) -> datetime:
    """The most recent scheduled instant at or before ``now`` (aware, UTC)."""
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    candidate = datetime.combine(local.date(), at, tzinfo=zone)
    if candidate > local:
        candidate = datetime.combine(local.date() - timedelta(days=1), at, tzinfo=zone)
    return candidate.astimezone(timezone.utc)


def next_due(now: datetime, at: time, tz: str) -> datetime:
    """The first scheduled instant strictly after ``now`` (aware, UTC)."""
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    candidate = datetime.combine(local.date(), at, tzinfo=zone)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), at, tzinfo=zone)
    return candidate.astimezone(timezone.utc)


def last_successful_brief(store: Any) -> datetime | None:
    """Start time of the newest finished ``brief`` run without an error in its metrics."""
    for run in store.list_runs(kind="brief", limit=50):
        if not run.get("finished_at"):
            continue
        m = run.get("metrics") or {}
        if m.get("error") or m.get("ok") is False:
            continue
        return datetime.fromisoformat(run["started_at"].replace("Z", "+00:00"))
    return None


def catch_up_needed(store: Any, at: time, tz: str, now: datetime | None = None) -> bool:
    """True when the most recent due time passed without a successful brief run after it."""
    now = now or datetime.now(timezone.utc)
    due = last_due(now, at, tz)
    last = last_successful_brief(store)
    return last is None or last < due


# --- the job -------------------------------------------------------------------------------

def run_daily(home: Home, *, offline: bool = False, deliver: bool = True,
              log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Fetch, build + save the briefing, deliver it — the same job as ``newsdesk brief`` (``run_brief``)."""
    from newsdesk.brief.run import run_brief
    from newsdesk.config import load_config
    from newsdesk.store.sqlite import open_store

    say = log or (lambda m: None)
    config = load_config(home.config_path)
    store = open_store(home.db_path)
    try:
        result = run_brief(store, config, home, fetch=True, offline=offline, deliver=deliver, say=say)
        if result.report is not None:
            say(f"fetch: {_short_report(result.report)}")
        b = result.briefing
        say(f"brief: {b['date']} saved")
        failed = result.report.failed if result.report is not None else []
        return {"date": b["date"], "seq": b.get("seq"), "stories": b["stats"]["stories"],
                "feeds_failed": [f"{r.name}: {r.error or 'failed'}" for r in failed],
                "delivered": [r.to_dict() for r in result.delivered]}
    finally:
        store.close()


def _short_report(report: Any) -> str:
    m = report.metrics()
    return ", ".join(f"{k}={m[k]}" for k in ("feeds", "ok", "errors", "skipped", "items_new") if k in m)


# --- in-process scheduler ----------------------------------------------------------------------

class Scheduler:
    """Runs ``job`` daily at ``at`` (``briefing.timezone``) in a daemon thread; catches up once at start."""

    def __init__(self, home: Home, at: str, *, job: Callable[[], Any] | None = None,
                 tz: str | None = None, clock: Callable[[], datetime] | None = None,
                 poll_seconds: float = 60.0):
        self.home = home
        self.at = parse_at(at)
        self._tz = tz
        self._job = job or (lambda: run_daily(home, log=_log))
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        self._poll = poll_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.runs = 0
        self.last_result: Any = None
        self.last_error: str | None = None

    @property
    def tz(self) -> str:
        if self._tz is None:
            from newsdesk.config import load_config

            self._tz = load_config(self.home.config_path).briefing.timezone
        return self._tz

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="newsdesk-schedule", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _catch_up_needed(self) -> bool:
        from newsdesk.store.sqlite import open_store

        store = open_store(self.home.db_path)
        try:
            return catch_up_needed(store, self.at, self.tz, self._clock())
        finally:
            store.close()

    def _run_once(self, why: str) -> None:
        _log(f"schedule: starting {why} run")
        try:
            self.last_result = self._job()
            self.last_error = None
        except LockBusy as e:
            self.last_error = str(e)
            _log(f"schedule: skipped: {e}")
            return
        except Exception as e:  # the server keeps running; the next day tries again
            self.last_error = f"{type(e).__name__}: {e}"
            _log(f"schedule: run failed: {self.last_error}")
        self.runs += 1

    def _loop(self) -> None:
        try:
            if self._catch_up_needed():
                self._run_once("catch-up")
        except Exception as e:
            _log(f"schedule: cannot check for a missed run: {e}")
        while not self._stop.is_set():
            now = self._clock()
            due = next_due(now, self.at, self.tz)
            # Sleep in short slices so suspend/resume and clock changes are noticed.
            while not self._stop.is_set() and self._clock() < due:
                remaining = (due - self._clock()).total_seconds()
                self._stop.wait(max(0.05, min(self._poll, remaining)))
            if self._stop.is_set():
                break
            self._run_once("scheduled")


def _log(msg: str) -> None:
    print(f"{datetime.now().strftime('%Y-%m-%d %H:%M:%S')} {msg}", file=sys.stderr, flush=True)


# --- cron / systemd text -------------------------------------------------------------------------

def _command(home: Home, exe: str | None = None) -> str:
    exe = exe or _newsdesk_exe()
    return f"{shlex.quote(exe)} --home {shlex.quote(str(home.root))} --quiet schedule --run"


def _newsdesk_exe() -> str:
    cand = Path(sys.executable).with_name("newsdesk")
    return str(cand) if cand.exists() else "newsdesk"


def cron_text(at: str, home: Home, tz: str, exe: str | None = None) -> str:
    t = parse_at(at)
    return (
        f"# newsdesk: fetch + brief + deliver daily at {t:%H:%M} ({tz}).\n"
        f"# cron uses the system time zone; CRON_TZ is honoured by cronie/systemd-cron (not by Debian's cron).\n"
        f"CRON_TZ={tz}\n"
        f"{t.minute} {t.hour} * * * {_command(home, exe)}\n"
    )


def systemd_text(at: str, home: Home, tz: str, exe: str | None = None) -> str:
    t = parse_at(at)
    return (
        "# ~/.config/systemd/user/newsdesk.service\n"
        "[Unit]\n"
        "Description=newsdesk daily fetch + brief + deliver\n"
        "Wants=network-online.target\n"
        "After=network-online.target\n\n"
        "[Service]\n"
        "Type=oneshot\n"
        f"ExecStart={_command(home, exe)}\n\n"
        "# ~/.config/systemd/user/newsdesk.timer\n"
        "[Unit]\n"
        f"Description=Run newsdesk daily at {t:%H:%M} {tz}\n\n"
        "[Timer]\n"
        f"OnCalendar=*-*-* {t:%H:%M}:00 {tz}\n"
        "Persistent=true\n"
        "RandomizedDelaySec=60\n\n"
        "[Install]\n"
        "WantedBy=timers.target\n\n"
        "# enable with: systemctl --user daemon-reload && systemctl --user enable --now newsdesk.timer\n"
    )
