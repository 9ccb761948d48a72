"""Identity check: NCID + two random security answers, lockout, expiry, no tell-tales."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bot.accounts.identity import Challenge, Failed, Locked, Verified
from bot.accounts.models import AuditEntry
from bot.services.container import Services
from bot.storage.db import session_scope
from tests.fakes.accounts import DEMO_ANSWERS, SESSION, account_services, verify
from tests.fakes.clock import FixedClock


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def services(tmp_path: Path, clock: FixedClock) -> Services:
    s = account_services(tmp_path, clock=clock)
    yield s
    s.close()


def answer_both(services: Services, sender: str, challenge: Challenge, *, right: bool = True) -> None:
    for i, q in enumerate(challenge.questions):
        services.accounts.identity.answer(sender_id=sender, index=i, text=DEMO_ANSWERS[q] if right else "nope")


def fail_once(services: Services, sender: str, ncid: str) -> object:
    identity = services.accounts.identity
    challenge = identity.begin(sender_id=sender, ncid_text=ncid)
    if isinstance(challenge, Locked):
        return challenge
    answer_both(services, sender, challenge, right=False)
    return identity.complete(sender_id=sender, session=SESSION)


def test_two_of_the_four_account_questions_are_asked(services: Services) -> None:
    challenge = services.accounts.identity.begin(sender_id="s", ncid_text="PhoneUser01")
    assert isinstance(challenge, Challenge) and challenge.ncid == "phoneuser01"
    assert len(set(challenge.questions)) == 2 and set(challenge.questions) <= set(DEMO_ANSWERS)


def test_right_answers_verify_ignoring_case_and_spacing(services: Services) -> None:
    identity = services.accounts.identity
    challenge = identity.begin(sender_id="s", ncid_text="phoneuser01")
    for i, q in enumerate(challenge.questions):
        identity.answer(sender_id="s", index=i, text=f"  {DEMO_ANSWERS[q].upper()}  ")
    assert isinstance(identity.complete(sender_id="s", session=SESSION), Verified)
    assert identity.verified_ncid(sender_id="s", session=SESSION) == "phoneuser01"


def test_one_wrong_answer_fails(services: Services) -> None:
    identity = services.accounts.identity
    challenge = identity.begin(sender_id="s", ncid_text="phoneuser01")
    identity.answer(sender_id="s", index=0, text=DEMO_ANSWERS[challenge.questions[0]])
    identity.answer(sender_id="s", index=1, text="wrong")
    assert isinstance(identity.complete(sender_id="s", session=SESSION), Failed)
    assert identity.verified_ncid(sender_id="s", session=SESSION) is None


def test_unknown_ncid_gets_questions_and_fails_like_a_wrong_answer(services: Services) -> None:
    identity = services.accounts.identity
    unknown = identity.begin(sender_id="a", ncid_text="nobody99")
    assert isinstance(unknown, Challenge) and len(unknown.questions) == 2
    assert identity.begin(sender_id="b", ncid_text="nobody99") == unknown  # stable, not random per try
    identity.answer(sender_id="a", index=0, text="Maple")
    identity.answer(sender_id="a", index=1, text="Rex")
    assert identity.complete(sender_id="a", session=SESSION) == fail_once(services, "c", "phoneuser01")


def test_five_failures_lock_the_ncid_for_fifteen_minutes(services: Services, clock: FixedClock) -> None:
    results = [fail_once(services, f"s{i}", "phoneuser01") for i in range(5)]
    assert isinstance(results[-1], Locked) and results[-1].minutes == 15
    assert isinstance(services.accounts.identity.begin(sender_id="new", ncid_text="phoneuser01"), Locked)
    clock.advance(minutes=15, seconds=1)
    assert isinstance(services.accounts.identity.begin(sender_id="new", ncid_text="phoneuser01"), Challenge)


def test_right_answers_do_not_pass_while_locked(services: Services) -> None:
    for i in range(5):
        fail_once(services, "s", "phoneuser01")
    assert isinstance(services.accounts.identity.begin(sender_id="s", ncid_text="phoneuser01"), Locked)
    assert isinstance(services.accounts.identity.complete(sender_id="s", session=SESSION), Failed)


def test_failures_after_a_lock_relock_at_once(services: Services, clock: FixedClock) -> None:
    for i in range(5):
        fail_once(services, "s", "phoneuser01")
    clock.advance(minutes=16)
    assert isinstance(fail_once(services, "s", "phoneuser01"), Locked)


def test_unknown_ncids_lock_too(services: Services) -> None:
    results = [fail_once(services, "s", "ghost01") for _ in range(6)]
    assert isinstance(results[4], Locked) and isinstance(results[5], Locked)


def test_the_question_pair_is_kept_until_success(services: Services) -> None:
    identity = services.accounts.identity
    first = identity.begin(sender_id="a", ncid_text="phoneuser01")
    fail_once(services, "a", "phoneuser01")
    assert identity.begin(sender_id="b", ncid_text="phoneuser01").questions == first.questions


def test_verification_belongs_to_one_conversation_and_expires(services: Services, clock: FixedClock) -> None:
    verify(services, "s")
    assert services.accounts.identity.verified_ncid(sender_id="other", session=SESSION) is None
    clock.advance(minutes=15, seconds=1)
    assert services.accounts.identity.verified_ncid(sender_id="s", session=SESSION) is None


def test_bad_ncid_text_is_not_a_challenge(services: Services) -> None:
    assert services.accounts.identity.begin(sender_id="s", ncid_text="what is mfa") is None


def test_every_attempt_is_audited_without_answers(services: Services) -> None:
    fail_once(services, "s", "phoneuser01")
    verify(services, "t")
    with session_scope(services.sessions) as session:
        rows = list(session.scalars(select(AuditEntry).where(AuditEntry.action == "identity_check")))
        assert [r.outcome for r in rows] == ["failed", "verified"]
        dumped = repr([(r.detail, r.outcome) for r in rows]).lower()
    assert not any(a.lower() in dumped for a in DEMO_ANSWERS.values())
