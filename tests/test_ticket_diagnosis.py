"""The ticket's diagnosis follows the whole conversation, over the web (REST) and Slack: one
test per field, each a real scripted conversation that ends in a filed ticket. Answers to a
form never enter it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import pytest
from sqlalchemy import select

from bot.dialogue.tracker import DialogueState
from bot.tickets.diagnosis import build_diagnosis, describe, split_turns, steps_in
from bot.tickets.models import Ticket
from tests.fakes.slack_driver import ALICE_DM, fake_slack, settings, slack  # noqa: F401
from tests.fakes.slack_server import TEAM
from tests.fakes.ticket_form import file_ticket


@dataclass
class Chat:
    """One user on one channel: what they say, and the conversation's state."""

    sender: str
    say: Callable[[str], Any]
    runtime: Any
    client: Any

    def state(self) -> DialogueState | None:
        return self.runtime.assistant.state(self.sender)

    def file_ticket(self, **kwargs: Any) -> Ticket:
        file_ticket(say=self.say, state=self.state, **kwargs)
        with self.runtime.services.sessions() as session:
            return session.scalars(select(Ticket).where(Ticket.sender_id == self.sender)).one()

    def answer_test_call(self, digit: str) -> None:
        [call] = self.client.get("/dev/phone/calls").json()["calls"]
        self.client.post(f"/dev/phone/calls/{call['sid']}/answer")
        self.client.post(f"/dev/phone/calls/{call['sid']}/press", json={"digit": digit})


@pytest.fixture(params=["web", "slack"])
def chat(request: pytest.FixtureRequest, client: Any, runtime: Any) -> Chat:
    if request.param == "web":
        credential: dict[str, str] = {}

        def web(text: str) -> Any:
            # The widget's conversation credential (issue 14), as widget.js keeps and sends it.
            reply = client.post("/webhooks/rest/webhook", headers=credential,
                                json={"sender": "web-user", "message": text, "metadata": {"channel": "web"}})
            assert reply.status_code == 200
            if "X-Conversation-Token" in reply.headers:
                credential["X-Conversation-Token"] = reply.headers["X-Conversation-Token"]
            return reply.json()
        return Chat("web-user", web, runtime, client)
    driver = request.getfixturevalue("slack")
    return Chat(f"slack:{TEAM}:{ALICE_DM}", driver.say_dm, runtime, client)


def test_e05_that_the_fix_did_not_solve_reaches_the_ticket_with_what_was_tried(chat: Chat) -> None:
    chat.say("I got error E05")
    chat.say("I waited the full hour and re-entered my NCID and password, it still did not work")
    ticket = chat.file_ticket()
    assert ticket.error_code == "E05"
    d = ticket.diagnosis
    assert d["error_code"] == "E05" and d["error_codes"] == ["E05"]
    assert d["tried"] == ["waited_hour", "reentered_credentials"]
    assert {"id": "e05", "helped": False} in d["articles"]


def test_error_code_is_the_latest_one_the_user_reported(chat: Chat) -> None:
    chat.say("I got error E06")
    chat.say("now it says E05 instead")
    ticket = chat.file_ticket()
    assert ticket.error_code == "E05" and ticket.diagnosis["error_codes"] == ["E06", "E05"]


def test_call_failure_is_a_queue_field(chat: Chat) -> None:
    chat.say("the phone never rang")
    ticket = chat.file_ticket()
    assert ticket.call_failure == "no_call_received" and ticket.error_code is None
    assert ticket.diagnosis["call_failures"] == ["no_call_received"]


def test_a_problem_named_in_the_request_for_a_ticket_counts(chat: Chat) -> None:
    # The same message asks for the ticket and names the problem (here as the button payload
    # the NLU's parse takes the same shape as).
    chat.say('/contact_support{"call_failure":"no_call_received"}')
    ticket = chat.file_ticket()
    assert ticket.call_failure == "no_call_received"


def test_mfa_method_is_a_queue_field(chat: Chat) -> None:
    chat.say("I use the authenticator app and it rejects my code")
    ticket = chat.file_ticket()
    assert ticket.mfa_method == "app" and ticket.diagnosis["mfa_method"] == "app"


def test_steps_the_user_tried_are_listed_and_a_negated_one_is_not(chat: Chat) -> None:
    chat.say("I restarted the authenticator app and pressed the pound key, but I haven't cleared the cache")
    ticket = chat.file_ticket()
    assert ticket.diagnosis["tried"] == ["pressed_hash", "restarted_app"]


def test_articles_shown_carry_the_users_verdict(chat: Chat) -> None:
    chat.say("what is mfa")
    chat.say("I got error E06")
    chat.say("no, that did not help")
    articles = chat.file_ticket().diagnosis["articles"]
    assert [a["id"] for a in articles][:2] == ["what_is_mfa", "e06"]
    assert articles[0]["helped"] is None and articles[1]["helped"] is False


def test_test_call_outcomes_are_listed(chat: Chat, scripted_accounts: None, demo_accounts: Any) -> None:
    for text in ("please place a test call to my phone", "phoneuser01", "rex", "ford"):
        chat.say(text)
    chat.answer_test_call("7")  # a key other than #: the call fails
    _wait_for(lambda: "call_outcome" in _slots(chat))
    ticket = chat.file_ticket()
    assert ticket.diagnosis["test_calls"] == ["hash_not_pressed"]


def test_form_answers_are_not_requests(chat: Chat) -> None:
    chat.say("I got error E05")
    ticket = chat.file_ticket(message="Also seeing E06 and I restarted the app")
    d = ticket.diagnosis
    # The contact details ("Smith", a phone number...) are answers, whatever the NLU made of them.
    # "yes" accepted the offer of a ticket; "submit" and the rest answered the form.
    assert d["requests"] == ["report_error", "contact_support", "affirm"]
    assert d["error_codes"] == ["E05"] and "restarted_app" not in d["tried"]


def _slots(chat: Chat) -> dict[str, Any]:
    state = chat.state()
    return dict(state.slots) if state else {}


def _wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.01)


# ------------------------------------------------------------------ the builder on its own
def test_steps_in_reads_negations_per_clause() -> None:
    assert steps_in("I waited an hour. I did not restart the app") == ["waited_hour"]
    assert steps_in("It didn't work after I waited 60 minutes") == ["waited_hour"]
    assert steps_in("I have not waited an hour yet") == []
    assert steps_in("pressed # after the code, logged out and back in") == ["reentered_credentials",
                                                                            "pressed_hash"]


def test_a_cancel_typed_inside_a_form_is_a_command_not_a_request() -> None:
    events = [
        {"event": "user", "text": "file a ticket", "parse_data": {"intent": {"name": "contact_support"}}},
        {"event": "active_loop", "name": "ticket_form"},
        {"event": "user", "text": "Smith", "parse_data": {"intent": {"name": "out_of_scope"}}},
        {"event": "slot", "name": "last_name", "value": "Smith"},
        {"event": "action", "name": "validate_ticket_form"},
        {"event": "user", "text": "forget it", "parse_data": {"intent": {"name": "out_of_scope"}}},
        {"event": "active_loop", "name": None},
        {"event": "bot", "text": "OK, cancelled."},
    ]
    assert [s.kind for s in split_turns(events)] == ["start", "request", "form_answer", "command"]
    assert build_diagnosis(events).requests == ["contact_support"]


def test_describe_gives_staff_labels_not_keys() -> None:
    rows = dict(describe({"error_code": "E05", "tried": ["waited_hour"],
                          "articles": [{"id": "e05", "helped": False}]}, titles={"e05": "E05: User Not Found"}))
    assert rows["Error code"] == "E05"
    assert rows["The user says they tried"] == "Waited 60 minutes after the NCID was set up"
    assert rows["Articles shown"] == "E05: User Not Found (did not help)"


def test_an_article_shown_again_keeps_the_verdict_until_a_new_one() -> None:
    def user(text: str, intent: str) -> dict[str, object]:
        return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}, "entities": []}}

    article = {"event": "bot", "text": "E05", "data": {"custom": {"article": "e05"}}}
    events = [user("E05", "report_error"), article, user("it still says E05", "report_error"), article]
    assert build_diagnosis(events).articles == [{"id": "e05", "helped": False}]
    assert build_diagnosis(events + [user("yes that worked", "affirm")]).articles == [{"id": "e05", "helped": True}]
