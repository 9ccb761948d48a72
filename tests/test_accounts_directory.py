"""The MFA directory: demo seeding, CSV import, hashing, encryption, phone parsing."""

from __future__ import annotations

import argparse
import concurrent.futures
from collections.abc import Iterator
from typing import Any
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from bot.accounts.cli import add_cli
from bot.accounts.crypto import SecretBox, secret_box
from bot.accounts.demo import seed_demo_accounts
from bot.accounts.directory import normalize_answer, normalize_ncid
from bot.accounts.importer import import_users
from bot.accounts.models import SecurityAnswer
from bot.accounts.phones import display, to_e164
from bot.config import Settings
from bot.errors import BadRequest, ConfigError
from bot.services.container import Services
from bot.storage.db import session_scope
from tests.fakes.accounts import account_services
from tests.fakes.clock import FixedClock

HEADER = ("ncid,first_name,last_name,email,ncid_created_at,state,method,primary_phone,secondary_phone,"
          "question1,answer1,question2,answer2,question3,answer3,question4,answer4\n")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def services(tmp_path: Path, clock: FixedClock) -> Iterator[Services]:
    s = account_services(tmp_path, clock=clock)
    yield s
    s.close()


def test_demo_accounts_cover_every_situation(services: Services, clock: FixedClock) -> None:
    by_ncid = {a.ncid: a for a in services.accounts.directory.list()}
    assert set(by_ncid) == {"newuser01", "notreg01", "phoneuser01", "appuser01", "disabled01"}
    assert clock.now() - by_ncid["newuser01"].ncid_created_at < timedelta(minutes=60)
    assert by_ncid["phoneuser01"].method == "phone" and by_ncid["appuser01"].method == "app"
    assert by_ncid["disabled01"].state == "disabled" and by_ncid["notreg01"].state == "not_registered"


def test_demo_seeding_is_idempotent(services: Services, clock: FixedClock) -> None:
    again = seed_demo_accounts(directory=services.accounts.directory, clock=clock)
    assert again == ["newuser01"]  # only the brand-new NCID is refreshed
    assert len(services.accounts.directory.list()) == 5


def test_answers_are_stored_as_argon2_hashes(services: Services) -> None:
    with session_scope(services.sessions) as session:
        hashes = list(session.scalars(select(SecurityAnswer.answer_hash)))
    assert hashes and all(h.startswith("$argon2id$") and "maple" not in h.lower() for h in hashes)


def test_answers_normalise_case_and_spacing() -> None:
    assert normalize_answer("  New   YORK\t") == "new york"


def test_ncids_are_trimmed_and_lower_cased() -> None:
    assert normalize_ncid("  JSmith12 ") == "jsmith12"
    assert normalize_ncid("two words") is None


def test_import_creates_and_updates_accounts(services: Services, tmp_path: Path, clock: FixedClock) -> None:
    csv = tmp_path / "users.csv"
    csv.write_text(HEADER + "JDoe1,Jane,Doe,j@x.org,2025-01-01T00:00:00,registered,phone,(919) 555-0134,,"
                   "Q1,a,Q2,b,Q3,c,Q4,d\nphoneuser01,Pat,Phone,,,registered,phone,919-555-0111,,,,,,,,,\n")
    report = import_users(sessions=services.sessions, path=csv, directory=services.accounts.directory, clock=clock)
    assert (report.created, report.updated, report.errors) == (1, 1, [])
    jane = services.accounts.directory.lookup("jdoe1")
    assert jane.primary_phone == "+19195550134" and len(jane.questions) == 4
    assert services.accounts.directory.check_answer("jdoe1", 1, " A ")


def test_import_reports_bad_rows_by_line_and_keeps_good_ones(services: Services, tmp_path: Path,
                                                             clock: FixedClock) -> None:
    csv = tmp_path / "users.csv"
    csv.write_text(HEADER + "ok1,A,B,,,,,,,,,,,,,,\nbad one,A,B,,,,,,,,,,,,,,\nok2,A,B,,,,,12,,,,,,,,,\n"
                   "ok3,A,B,,,weird,,,,,,,,,,,\nok4,A,B,,,,,,,Q1,a,,,,,,\n")
    report = import_users(sessions=services.sessions, path=csv, directory=services.accounts.directory, clock=clock)
    assert report.created == 1 and [line for line, _ in report.errors] == [3, 4, 5, 6]


def test_import_dry_run_changes_nothing(services: Services, tmp_path: Path, clock: FixedClock) -> None:
    csv = tmp_path / "users.csv"
    csv.write_text(HEADER + "new1,A,B,,,,,,,,,,,,,,\n")
    import_users(sessions=services.sessions, path=csv, directory=services.accounts.directory, clock=clock,
                 dry_run=True)
    assert services.accounts.directory.lookup("new1") is None


def test_import_needs_the_key_columns(services: Services, tmp_path: Path) -> None:
    csv = tmp_path / "users.csv"
    csv.write_text("name\nx\n")
    report = import_users(sessions=services.sessions, path=csv, directory=services.accounts.directory)
    assert report.errors == [(1, "missing columns: ncid, first_name, last_name")]


def test_cli_registers_users_import_and_list() -> None:
    parser = argparse.ArgumentParser()
    add_cli(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["users", "import", "people.csv", "--dry-run"])
    assert args.file == Path("people.csv") and args.dry_run and callable(args.handler)
    assert callable(parser.parse_args(["users", "list"]).handler)


def test_phone_numbers_become_e164_and_display_masked() -> None:
    assert to_e164("(919) 555-0134") == "+19195550134"
    assert display("+19195550134") == "(•••) •••-••34"
    with pytest.raises(BadRequest):
        to_e164("555-0134")


def test_secret_box_accepts_a_fernet_key_or_a_passphrase() -> None:
    for key in (Fernet.generate_key().decode(), "correct horse battery staple"):
        box = SecretBox(key)
        assert box.decrypt(box.encrypt("JBSWY3DP")) == "JBSWY3DP"
    assert "staple" not in repr(SecretBox("correct horse battery staple"))


def test_development_without_a_key_uses_a_stored_dev_key(tmp_path: Path) -> None:
    settings = Settings.load(env={}, mode="development", secret_key=None)
    key_file = tmp_path / "dev.key"
    token = secret_box(settings, dev_key_file=key_file).encrypt("x")
    assert secret_box(settings, dev_key_file=key_file).decrypt(token) == "x"


def test_processes_starting_together_agree_on_one_dev_key(tmp_path: Path) -> None:
    settings = Settings.load(env={}, mode="development", secret_key=None)
    key_file = tmp_path / "var" / "dev.key"
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        boxes = list(pool.map(lambda _: secret_box(settings, dev_key_file=key_file), range(16)))
    token = boxes[0].encrypt("x")
    assert all(box.decrypt(token) == "x" for box in boxes)
    assert [p.name for p in key_file.parent.iterdir()] == ["dev.key"]  # no temporary files left
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_production_without_a_key_fails_at_start(tmp_path: Path) -> None:
    settings = Settings.load(env={}, mode="development")
    production = type(settings)(**{**settings.__dict__, "mode": "production"})
    with pytest.raises(ConfigError):
        secret_box(production, dev_key_file=tmp_path / "k")


def test_argon2_settings_are_read_from_config_and_unknown_ones_refused() -> None:
    from types import SimpleNamespace

    from bot.accounts.service import _hasher

    def hasher(section: dict[str, object]) -> Any:
        return _hasher(SimpleNamespace(raw={"accounts": {"argon2": section}}))

    assert hasher({}) is None  # argon2-cffi's own defaults
    tuned = hasher({"time_cost": "2", "memory_cost": 1024, "parallelism": 1})
    assert (tuned.time_cost, tuned.memory_cost, tuned.parallelism) == (2, 1024, 1)
    for bad in ({"time_cost": "fast"}, {"memory_kib": 1024}, {"parallelism": 0}):
        with pytest.raises(ConfigError, match="accounts.argon2 is invalid"):
            hasher(bad)
