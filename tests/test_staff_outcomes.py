"""Honest outcomes: each class of how a conversation ended comes from a real scripted
conversation through the REST channel and the real engine, and the insights' figures add up
to the number of conversations."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.staff import insights
from bot.staff.outcomes import fallback_prefixes
from bot.storage.db import session_scope
from tests.fakes.staff import add_staff, sign_in
from tests.fakes.ticket_form import file_ticket

IDLE = 61  # minutes: past the session expiry (config.yml), so the conversation has ended


@pytest.fixture
def supervisor(client: Any, runtime: Any, clock: Any, tmp_path: Path) -> str:
    add_staff(runtime, "supervisor")
    runtime.services.extras["staff"].examples_path = tmp_path / "reviewed_examples.yml"
    return sign_in(client, clock, "supervisor")


def _say(client: Any, sender: str, *texts: str) -> None:
    for text in texts:
        response = client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
        assert response.status_code == 200


def _outcomes(runtime: Any) -> dict[str, tuple[str, str]]:
    """How each conversation of the last day ended, as the insights page classes them."""
    now = runtime.services.clock.now()
    with session_scope(runtime.services.sessions) as session:
        found = insights.conversation_outcomes(
            session=session, since=now - timedelta(days=1), until=now,
            idle_before=now - timedelta(minutes=runtime.settings.dialogue.session_expiry_minutes),
            fallbacks=fallback_prefixes(runtime.assistant.engine.domain.responses))
    return {sender: (o.outcome, o.reason) for sender, (o, _) in found.items()}


def _ended(runtime: Any, clock: Any, sender: str) -> tuple[str, str]:
    clock.advance(minutes=IDLE)
    return _outcomes(runtime)[sender]


def test_confirmed_answer_is_resolved(client: Any, runtime: Any, clock: Any) -> None:
    _say(client, "u-yes", "I got error E05", "yes, that worked")
    assert _ended(runtime, clock, "u-yes")[0] == "resolved"


def test_thanks_after_an_answer_is_resolved(client: Any, runtime: Any, clock: Any) -> None:
    _say(client, "u-thanks", "what is mfa", "thank you")
    assert _ended(runtime, clock, "u-thanks")[0] == "resolved"


def test_a_ticket_is_escalated(client: Any, runtime: Any, clock: Any) -> None:
    def say(text: str) -> None:
        _say(client, "u-ticket", text)

    say("I got error E05")
    file_ticket(say=say, state=lambda: runtime.assistant.state("u-ticket"))
    assert _ended(runtime, clock, "u-ticket")[0] == "escalated"


def test_a_handoff_is_escalated(client: Any, runtime: Any, clock: Any) -> None:
    add_staff(runtime, "agent")
    csrf = sign_in(client, clock, "agent")
    _say(client, "u-person", "the phone never rang")
    taken = client.post("/staff/conversations/u-person/take-over", data={"csrf_token": csrf})
    assert taken.status_code == 200
    assert _ended(runtime, clock, "u-person")[0] == "escalated"


def test_leaving_a_form_half_filled_is_abandoned(client: Any, runtime: Any, clock: Any) -> None:
    _say(client, "u-left", "I got error E05", "I want to file a ticket", "yes", "1234567893")
    assert runtime.assistant.state("u-left").active_loop == "ticket_form"
    assert _ended(runtime, clock, "u-left") == ("abandoned", "left mid-flow (ticket_form)")


def test_leaving_a_walkthrough_half_way_is_abandoned(client: Any, runtime: Any, clock: Any) -> None:
    _say(client, "u-walk", "how do I register for MFA with the phone call method")
    assert runtime.assistant.state("u-walk").slot("walkthrough")
    outcome, reason = _ended(runtime, clock, "u-walk")
    assert outcome == "abandoned" and reason.startswith("left mid-flow")


def test_leaving_after_a_fallback_is_abandoned(client: Any, runtime: Any, clock: Any) -> None:
    _say(client, "u-lost", "I got error E05", "zxqv blorp wibble")
    assert _ended(runtime, clock, "u-lost") == ("abandoned", "left after a fallback")


def test_saying_it_did_not_help_and_leaving_is_abandoned(client: Any, runtime: Any, clock: Any) -> None:
    _say(client, "u-no", "I got error E06", "no, that did not help")
    assert _ended(runtime, clock, "u-no") == ("abandoned", "said it did not help")


def test_an_answer_nobody_confirmed_is_not_resolved(client: Any, runtime: Any, clock: Any) -> None:
    _say(client, "u-quiet", "the phone never rang")
    assert _ended(runtime, clock, "u-quiet")[0] == "unconfirmed"


def test_only_off_topic_questions_are_out_of_scope(client: Any, runtime: Any, clock: Any) -> None:
    _say(client, "u-oos", "what's the weather today")
    assert _ended(runtime, clock, "u-oos")[0] == "out_of_scope"


def test_a_conversation_still_going_is_in_progress(client: Any, runtime: Any, clock: Any) -> None:
    _say(client, "u-now", "I got error E05")
    assert _outcomes(runtime)["u-now"][0] == "in_progress"


def test_insights_figures_add_up_with_trend_topics_and_codes(client: Any, runtime: Any, clock: Any,
                                                             supervisor: str) -> None:
    _say(client, "a", "I got error E05", "yes, that worked")
    _say(client, "b", "I got error E05", "zxqv blorp wibble")
    _say(client, "c", "I got error E06")
    _say(client, "d", "what's the weather today")
    _say(client, "e", "I got error E05", "I want to file a ticket", "yes", "1234567893")
    clock.advance(minutes=IDLE)
    _say(client, "f", "I got error E06")  # still open
    sign_in(client, clock, "supervisor")
    page = client.get("/staff/insights").text
    counts = {o: int(n) for o, n in re.findall(r'<tr id="outcome-(\w+)"><th scope="row">[^<]*</th><td>(\d+)</td>',
                                                 page)}
    assert counts == {"resolved": 1, "escalated": 0, "abandoned": 2, "unconfirmed": 1, "out_of_scope": 1,
                      "in_progress": 1}
    assert sum(counts.values()) == 6 and 'id="outcomes-total">6<' in page
    assert "Solved without a ticket" not in page
    trend = page[page.index('id="outcome-trend"'):page.index('id="bycode-h"')]
    assert "Wed 12/02" in trend and "<td>6</td>" in trend
    topics = page[page.index('id="unresolved-topics"'):page.index("</table>", page.index('id="unresolved-topics"'))]
    assert re.search(r"<th scope=\"row\">E05</th><td>2</td>", topics)  # b (fallback) and e (left the form)
    by_code = page[page.index('id="outcomes-by-code"'):page.index('id="topics-h"')]
    assert 'code=E05">E05</a>' in by_code and 'code=E06">E06</a>' in by_code
    # the not-understood list, per error code
    e05 = client.get("/staff/insights", params={"code": "E05"}).text
    assert "zxqv blorp wibble" in e05 and 'id="outcomes-total">3<' in e05
    assert "zxqv blorp wibble" not in client.get("/staff/insights", params={"code": "E06"}).text


def test_form_answers_are_not_offered_for_training_review(client: Any, runtime: Any, supervisor: str) -> None:
    _say(client, "g", "I want to file a ticket", "yes", "1234567893", "919-555-0134", "Smith")
    _say(client, "h", "qwop flarn")
    page = client.get("/staff/insights").text
    review = page[page.index('id="not-understood"'):]
    assert "qwop flarn" in review and ">Smith<" not in review and "919-555-0134" not in review
