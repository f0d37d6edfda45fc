"""Daily schedule: due times, catch-up of a missed run (once), the run lock, cron/systemd text, a full run."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from serve_helpers import demo_home

from newsdesk.cli.main import app as cli_app
from newsdesk.home import Home
from newsdesk.models import iso
from newsdesk.serve.schedule import (
    LockBusy,
    Scheduler,
    catch_up_needed,
    last_due,
    next_due,
    parse_at,
    run_daily,
    run_lock,
)
from newsdesk.store.sqlite import open_store

TZ = "America/Toronto"


def utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=timezone.utc)


def test_parse_at() -> None:
    assert parse_at("06:30").hour == 6 and parse_at("6:05").minute == 5
    for bad in ("24:00", "6.30", "", "06:60", "noon"):
        with pytest.raises(ValueError, match="HH:MM"):
            parse_at(bad)


def test_due_times_in_local_zone() -> None:
    at = parse_at("06:30")
    # 2026-11-21 12:00 UTC = 07:00 in Toronto (EST, UTC-5): today's 06:30 local has passed
    now = utc(2026, 11, 21, 12, 0)
    assert last_due(now, at, TZ) == utc(2026, 11, 21, 11, 30)
    assert next_due(now, at, TZ) == utc(2026, 11, 22, 11, 30)
    # 10:00 UTC = 05:00 local: the last due time was yesterday's
    early = utc(2026, 11, 21, 10, 0)
    assert last_due(early, at, TZ) == utc(2026, 11, 20, 11, 30)
    assert next_due(early, at, TZ) == utc(2026, 11, 21, 11, 30)
    # across the DST change (2026-03-08 in Toronto): 06:30 EDT is 10:30 UTC
    assert next_due(utc(2026, 3, 8, 12, 0), at, TZ) == utc(2026, 3, 9, 10, 30)


def _store_with_brief_run(path: Path, started: datetime | None, *, failed: bool = False) -> None:
    store = open_store(path)
    try:
        if started is not None:
            run_id = store.start_run("brief")
            store.execute("UPDATE runs SET started_at = ? WHERE id = ?", (iso(started), run_id))
            store.finish_run(run_id, {"error": "boom"} if failed else {"stories": 3})
    finally:
        store.close()


def test_catch_up_needed(tmp_path: Path) -> None:
    at = parse_at("06:30")
    now = utc(2026, 11, 21, 15, 0)  # 10:00 local; today's run was due at 11:30 UTC
    db = tmp_path / "a.db"
    _store_with_brief_run(db, utc(2026, 11, 20, 11, 31))  # yesterday's run: today's was missed
    store = open_store(db)
    assert catch_up_needed(store, at, TZ, now)
    store.close()
    db2 = tmp_path / "b.db"
    _store_with_brief_run(db2, utc(2026, 11, 21, 11, 31))  # today's ran
    store = open_store(db2)
    assert not catch_up_needed(store, at, TZ, now)
    store.close()
    db3 = tmp_path / "c.db"
    _store_with_brief_run(db3, utc(2026, 11, 21, 11, 31), failed=True)  # today's failed: retry
    store = open_store(db3)
    assert catch_up_needed(store, at, TZ, now)
    store.close()


def _home_with_runs(tmp_path: Path, started: datetime | None) -> Home:
    home = Home(tmp_path / "home")
    home.ensure()
    home.config_path.write_text(f'[briefing]\ntimezone = "{TZ}"\n', encoding="utf-8")
    _store_with_brief_run(home.db_path, started)
    return home


def test_scheduler_catches_up_once(tmp_path: Path) -> None:
    now = utc(2026, 11, 21, 15, 0)
    home = _home_with_runs(tmp_path, utc(2026, 11, 20, 11, 31))  # the machine was off this morning
    calls: list[datetime] = []

    def job() -> str:
        calls.append(now)
        store = open_store(home.db_path)  # a real run records a brief run
        run_id = store.start_run("brief")
        store.execute("UPDATE runs SET started_at = ? WHERE id = ?", (iso(now), run_id))
        store.finish_run(run_id, {})
        store.close()
        return "ran"

    s = Scheduler(home, "06:30", job=job, clock=lambda: now, poll_seconds=0.05)
    s.start()
    time.sleep(0.6)
    s.stop()
    assert len(calls) == 1 and s.runs == 1 and s.last_result == "ran"
    # restarting the server the same day does not run it again
    s2 = Scheduler(home, "06:30", job=job, clock=lambda: now, poll_seconds=0.05)
    s2.start()
    time.sleep(0.4)
    s2.stop()
    assert len(calls) == 1


def test_scheduler_runs_at_due_time(tmp_path: Path) -> None:
    home = _home_with_runs(tmp_path, utc(2026, 11, 21, 11, 31))  # up to date
    clock = {"now": utc(2026, 11, 22, 11, 29, 59)}  # one second before tomorrow's 06:30 local
    calls: list[datetime] = []
    s = Scheduler(home, "06:30", job=lambda: calls.append(clock["now"]), clock=lambda: clock["now"],
                  poll_seconds=0.02)
    s.start()
    time.sleep(0.2)
    assert calls == []  # nothing missed, not yet due
    clock["now"] = utc(2026, 11, 22, 11, 30, 1)
    deadline = time.time() + 3
    while not calls and time.time() < deadline:
        time.sleep(0.02)
    s.stop()
    assert len(calls) == 1


def test_scheduler_survives_a_failing_job(tmp_path: Path) -> None:
    home = _home_with_runs(tmp_path, None)  # never ran: catch up at start

    def job() -> None:
        raise RuntimeError("disk full")

    s = Scheduler(home, "06:30", job=job, clock=lambda: utc(2026, 11, 21, 15, 0), poll_seconds=0.05)
    s.start()
    time.sleep(0.3)
    assert s._thread is not None and s._thread.is_alive()
    s.stop()
    assert s.last_error == "RuntimeError: disk full"


def test_lock_prevents_overlap(tmp_path: Path) -> None:
    lock = tmp_path / "newsdesk.lock"
    with run_lock(lock):
        with pytest.raises(LockBusy, match="another newsdesk fetch/brief run is in progress"):
            with run_lock(lock):
                pass
        # the in-process scheduler skips (and says so) instead of running twice
        home = Home(tmp_path)
        home.config_path.write_text("", encoding="utf-8")
        with pytest.raises(LockBusy):
            run_daily(home)
    with run_lock(lock):  # released afterwards
        pass


def test_second_process_exits_with_clear_message(tmp_path: Path) -> None:
    home = demo_home(tmp_path)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path; from newsdesk.serve.schedule import run_lock\n"
         f"with run_lock(Path({str(home.lock_path)!r})):\n    print('held', flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        res = subprocess.run([sys.executable, "-m", "newsdesk", "--home", str(home.root), "schedule", "--run",
                              "--offline"], capture_output=True, text=True, timeout=120)
        assert res.returncode == 1
        assert "another newsdesk fetch/brief run is in progress" in res.stderr
        assert f"pid {holder.pid}" in res.stderr
    finally:
        holder.kill()
        holder.wait()


def test_print_cron_and_systemd(tmp_path: Path) -> None:
    home = demo_home(tmp_path)
    res = CliRunner().invoke(cli_app, ["--home", str(home.root), "schedule", "--at", "06:30", "--print-cron"])
    assert res.exit_code == 0, res.output
    line = [x for x in res.stdout.splitlines() if x and not x.startswith("#") and "=" not in x.split()[0]][0]
    assert line.startswith("30 6 * * * ") and "schedule --run" in line and str(home.root) in line
    assert "CRON_TZ=America/Toronto" in res.stdout
    res = CliRunner().invoke(cli_app, ["--home", str(home.root), "schedule", "--at", "07:05", "--print-systemd"])
    assert res.exit_code == 0
    assert "OnCalendar=*-*-* 07:05:00 America/Toronto" in res.stdout and "Persistent=true" in res.stdout
    assert "Type=oneshot" in res.stdout and "ExecStart=" in res.stdout
    bad = CliRunner().invoke(cli_app, ["--home", str(home.root), "schedule", "--at", "25:00"])
    assert bad.exit_code == 2


def test_full_run_fetches_briefs_and_delivers(tmp_path: Path) -> None:
    """``newsdesk schedule --run --offline`` on the demo: a new archived briefing, a brief run, the vault note."""
    vault = tmp_path / "vault"
    home = demo_home(tmp_path, extra_toml=f'[delivery.vault]\nenabled = true\npath = "{vault}"\n')
    store = open_store(home.db_path)
    before = len(store.list_runs(kind="brief"))
    store.close()
    res = CliRunner().invoke(cli_app, ["--home", str(home.root), "--quiet", "schedule", "--run", "--offline", "--json"])
    assert res.exit_code == 1, res.output  # the demo's truncated feed fails: reported, briefing still built
    out = json.loads(res.stdout)
    assert out["feeds_failed"] and out["feeds_failed"][0].startswith("Vault Threat Notes: ")
    assert out["delivered"] == [{"channel": "vault", "ok": True, "detail": f"wrote {vault / 'Briefings' / (out['date'] + '.md')}"}]
    assert (vault / "Briefings" / f"{out['date']}.md").exists()
    assert (home.briefings_dir / f"{out['date']}.html").exists()
    store = open_store(home.db_path)
    try:
        runs = store.list_runs(kind="brief")
        assert len(runs) == before + 1 and runs[0]["finished_at"]
        assert not catch_up_needed(store, parse_at("06:30"), TZ)
    finally:
        store.close()
