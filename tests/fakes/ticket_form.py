"""Files a Contact Us ticket through the real dialogue, whatever the form asks and however it
words it: the answer is chosen by the form's requested slot (the tracker), never by the
question's text, so these tests survive changes to the form's wording and steps."""

from __future__ import annotations

from typing import Any, Callable

from bot.dialogue.tracker import DialogueState

CONTACT = {"npi": "1234567893", "phone": "919-555-0134", "last_name": "Smith", "first_name": "Pat",
           "subject": "MFA Issue", "email": "pat.smith@example.org"}
MESSAGE = "I still cannot log in to NCTracks after trying the steps."
ASK_FOR_TICKET = "I want to file a ticket"


def file_ticket(*, say: Callable[[str], Any], state: Callable[[], DialogueState | None],
                message: str = MESSAGE, max_turns: int = 20) -> None:
    """Asks for a ticket, accepts the offer, answers every question, submits."""
    say(ASK_FOR_TICKET)
    current = state()
    if current is None or current.active_loop != "ticket_form":
        say("yes")  # the offer to file one
    for _ in range(max_turns):
        current = state()
        assert current is not None
        if current.active_loop != "ticket_form":
            assert current.slot("ticket_stage") == "submitted", "the ticket form ended without a ticket"
            return
        requested = str(current.slot("requested_slot") or "")
        if requested in CONTACT:
            say(CONTACT[requested])
        elif requested == "ticket_confirmed":
            say("submit")
        else:  # the message step, however it is asked: the user's own words
            say(message)
    raise AssertionError(f"the ticket form was still asking after {max_turns} answers")
