"""Self-service account actions: identity check, registration status, test calls,
activation codes and phone changes. Wording lives in data/responses/account.yml; the
outside world is reached only through ``services.accounts`` and ``services.phone_calls``.

Every action that acts on an account or discloses it first asks IdentityService, not the
tracker, whether this conversation is verified; when it is not, it remembers itself in
``pending_action`` and starts ``identity_form``. ``action_verify_identity`` runs it after.
"""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.base import ServiceAction
from bot.accounts.directory import normalize_ncid
from bot.accounts.identity import Failed, Locked, Verified
from bot.accounts.phones import display, to_e164
from bot.errors import BadRequest, RateLimited, ServiceUnavailable

if TYPE_CHECKING:
    from bot.services.container import Services

PROVIDED = "[provided]"  # stands in for an answer once it has been checked
ANSWER_SLOTS = ("security_answer_1", "security_answer_2")
NO_SECONDARY = {"none", "no", "skip", "n/a", "na", "no secondary", "nothing"}
FAILURE_ARTICLES = {"voicemail": "no_call_received"}


def _channel(tracker: Tracker) -> str:
    return tracker.get_latest_input_channel() or "rest"


def _session(tracker: Tracker) -> str | None:
    """The channel session of this turn (issue 14), set by the channel, never by the user.
    A turn the system started (trigger_intent) has none, so it is never verified."""
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    if metadata.get("is_external"):
        return None
    session = metadata.get("session")
    return str(session) if session else None


def _minutes(seconds: int) -> int:
    return max(1, -(-seconds // 60))


def _clear_identity() -> list[EventType]:
    return [SlotSet(s, None) for s in (*ANSWER_SLOTS, "identity_question_1", "identity_question_2")]


class AccountAction(ServiceAction, metaclass=ABCMeta):
    """An action on a verified account; starts the identity check when needed."""

    @abstractmethod
    def name(self) -> str: ...

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        ncid = self.services.accounts.identity.verified_ncid(sender_id=tracker.sender_id,
                                                             session=_session(tracker))
        if ncid is None:
            dispatcher.utter_message(
                response="utter_identity_expired" if tracker.get_slot("verified") else "utter_identity_needed")
            # The NCID is asked again too: the one in the tracker may be another session's.
            return [SlotSet("verified", False), SlotSet("verified_until", None), SlotSet("ncid", None),
                    SlotSet("pending_action", self.name()), *_clear_identity(), ActiveLoop("identity_form")]
        account = self.services.accounts.directory.lookup(ncid)
        if account is None or account.state == "disabled":
            dispatcher.utter_message(response="utter_status_disabled")
            return []
        return await self.act(dispatcher, tracker, ncid)

    @abstractmethod
    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, ncid: str) -> list[EventType]: ...


# --- identity check ------------------------------------------------------------------
class _Lazy:
    """The Services container for validators (FormValidationAction has its own base)."""

    def __init__(self, services: "Services | None") -> None:
        self._services = services

    @property
    def services(self) -> "Services":
        if self._services is None:
            from bot.composition import services_from_environment

            self._services = services_from_environment()
        return self._services


class ValidateIdentityForm(FormValidationAction):
    def __init__(self, services: "Services | None" = None) -> None:
        self._holder = _Lazy(services)

    def name(self) -> str:
        return "validate_identity_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        events = await super().run(dispatcher, tracker, domain)
        if any(e.get("name") == "identity_locked" and e.get("value") for e in events):
            events += [SlotSet("identity_locked", None), SlotSet("pending_action", None),
                       ActiveLoop(None), SlotSet("requested_slot", None)]
        return events

    def validate_ncid(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                      domain: DomainDict) -> dict[str, Any]:
        identity = self._holder.services.accounts.identity
        result = identity.begin(sender_id=tracker.sender_id, ncid_text=str(value or ""),
                                channel=_channel(tracker))
        if result is None:
            dispatcher.utter_message(response="utter_identity_bad_ncid")
            return {"ncid": None}
        if isinstance(result, Locked):
            dispatcher.utter_message(response="utter_identity_locked", minutes=result.minutes)
            return {"ncid": None, "identity_locked": True}
        return {"ncid": result.ncid, "identity_question_1": result.questions[0],
                "identity_question_2": result.questions[1], "security_answer_1": None,
                "security_answer_2": None}

    def _answer(self, index: int, value: Any, tracker: Tracker) -> dict[str, Any]:
        slot = ANSWER_SLOTS[index]
        if value in (None, "", PROVIDED) or tracker.get_slot("ncid") is None:
            return {slot: None}
        self._holder.services.accounts.identity.answer(sender_id=tracker.sender_id, index=index, text=str(value))
        return {slot: PROVIDED}  # the answer itself never stays in the tracker

    def validate_security_answer_1(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> dict[str, Any]:
        return self._answer(0, value, tracker)

    def validate_security_answer_2(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> dict[str, Any]:
        return self._answer(1, value, tracker)


class ActionVerifyIdentity(ServiceAction):
    def name(self) -> str:
        return "action_verify_identity"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        result = self.services.accounts.identity.complete(sender_id=tracker.sender_id, session=_session(tracker),
                                                          channel=_channel(tracker))
        events = _clear_identity()
        if isinstance(result, Verified):
            dispatcher.utter_message(response="utter_identity_verified",
                                     minutes=int((result.until - self.services.clock.now()).total_seconds() // 60))
            events += [SlotSet("verified", True), SlotSet("verified_until", result.until.isoformat()),
                       SlotSet("pending_action", None)]
            pending = tracker.get_slot("pending_action")
            return events + ([FollowupAction(pending)] if pending else [])
        events += [SlotSet("ncid", None), SlotSet("verified", False), SlotSet("pending_action", None)]
        if isinstance(result, Locked):
            dispatcher.utter_message(response="utter_identity_locked", minutes=result.minutes)
        else:
            assert isinstance(result, Failed)
            dispatcher.utter_message(response="utter_identity_failed")
        return events


# --- registration status ----------------------------------------------------------------
class ValidateRegistrationStatusForm(FormValidationAction):
    def name(self) -> str:
        return "validate_registration_status_form"

    def validate_ncid(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                      domain: DomainDict) -> dict[str, Any]:
        ncid = normalize_ncid(str(value or ""))
        if ncid is None:
            dispatcher.utter_message(response="utter_identity_bad_ncid")
        return {"ncid": ncid}


class ActionRegistrationStatus(ServiceAction):
    """Says only what the portal's own E05/E06 messages say: a new NCID waits, an unknown
    or unregistered one enrolls (one reply for both), a disabled one escalates. Which of
    these applies is said only after the identity check (issue 14)."""

    def name(self) -> str:
        return "action_registration_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        accounts = self.services.accounts
        metadata = (tracker.latest_message or {}).get("metadata") or {}
        wait = accounts.admit_status_check(sender_id=tracker.sender_id, client=metadata.get("client"))
        if wait is not None:  # issue 14: look-ups are throttled per conversation and per client
            dispatcher.utter_message(response="utter_status_rate_limited", minutes=_minutes(wait))
            return [SlotSet("ncid", None)]
        status = accounts.registration_status(ncid_text=str(tracker.get_slot("ncid") or ""),
                                              sender_id=tracker.sender_id, channel=_channel(tracker))
        if status.kind == "invalid":
            dispatcher.utter_message(response="utter_identity_bad_ncid")
            return [SlotSet("ncid", None)]
        verified = accounts.identity.verified_ncid(sender_id=tracker.sender_id,
                                                   session=_session(tracker)) == tracker.get_slot("ncid")
        if not verified:
            # Issue 14: the account's state is told only to whoever passed its identity check;
            # anyone else gets one answer that covers every state and tells none.
            dispatcher.utter_message(response="utter_status_unverified")
            return [SlotSet("ncid", None)]
        dispatcher.utter_message(response=f"utter_status_{status.kind}", minutes=status.minutes_left,
                                 method=status.method)
        return []


# --- test calls --------------------------------------------------------------------------
class ActionPlaceTestCall(AccountAction):
    def name(self) -> str:
        return "action_place_test_call"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, ncid: str) -> list[EventType]:
        calls = self.services.phone_calls
        try:
            placed = await calls.place(ncid=ncid, sender_id=tracker.sender_id, channel=_channel(tracker))
        except RateLimited as exc:
            _rate_limited(dispatcher, self.services, exc.retry_after)
            return []
        except BadRequest:
            dispatcher.utter_message(response="utter_test_call_no_phone")
            return []
        except ServiceUnavailable:
            dispatcher.utter_message(response="utter_test_call_unavailable")
            return []
        dispatcher.utter_message(response="utter_test_call_placed", to=placed.to_masked,
                                 has_secondary=placed.has_secondary, calls_left=placed.calls_left,
                                 simulator=calls.simulator is not None)
        return [SlotSet("call_outcome", None)]


class ActionExplainTestCallOutcome(ServiceAction):
    """Runs for EXTERNAL_test_call_outcome, pushed by the Twilio webhooks."""

    def name(self) -> str:
        return "action_explain_test_call_outcome"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        # Trust only the stored call: a user can type "/EXTERNAL_test_call_outcome{...}".
        call_id = next(tracker.get_latest_entity_values("call_id"), None)
        call = self.services.phone_calls.get(str(call_id)) if call_id else None
        if call is None or call.sender_id != tracker.sender_id or call.outcome is None:
            dispatcher.utter_message(response="utter_test_call_no_outcome")
            return []
        outcome, purpose = call.outcome, call.purpose
        if purpose == "change_phone":
            dispatcher.utter_message(response="utter_phone_change_saved" if outcome == "confirmed"
                                     else "utter_phone_change_not_saved")
        dispatcher.utter_message(response=f"utter_test_call_outcome_{outcome}")
        if outcome != "confirmed":
            article = self.services.kb.for_call_failure(FAILURE_ARTICLES.get(outcome, outcome))
            if article is not None:
                dispatcher.utter_message(text=f"**{article.title}**\n\n{article.body.strip()}",
                                         json_message={"article": article.id})
            # The call's own account: this turn was started by the system, so it verifies nobody.
            wait = self.services.phone_calls.retry_after(ncid=call.ncid)
            if wait:
                _rate_limited(dispatcher, self.services, wait)
            else:
                dispatcher.utter_message(response="utter_test_call_try_again")
        return [SlotSet("call_outcome", outcome)]


def _rate_limited(dispatcher: CollectingDispatcher, services: "Services", seconds: int) -> None:
    at = services.clock.now() + timedelta(seconds=seconds)
    dispatcher.utter_message(response="utter_test_call_rate_limited", minutes=_minutes(seconds),
                             at=_local_time(services, at))


def _local_time(services: "Services", moment: datetime) -> str:
    """Clock time in the call center's zone (North Carolina), the way users read it: "2:05 PM ET"."""
    return moment.astimezone(services.hours.zone).strftime("%I:%M %p ET").lstrip("0")


# --- authenticator activation ----------------------------------------------------------
class ActionNewActivationCode(AccountAction):
    def name(self) -> str:
        return "action_new_activation_code"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, ncid: str) -> list[EventType]:
        try:
            new = self.services.accounts.activation.generate(ncid=ncid, sender_id=tracker.sender_id,
                                                             channel=_channel(tracker))
        except RateLimited as exc:
            dispatcher.utter_message(response="utter_activation_rate_limited", minutes=_minutes(exc.retry_after))
            return []
        # The response's `stored` placeholder is what history keeps; the QR is a one-time link.
        base = (self.services.settings.public_url or "").rstrip("/")
        dispatcher.utter_message(response="utter_activation_code", code=new.code, url=new.url,
                                 image=f"{base}{new.qr_path}", minutes=10,
                                 expires_at=_local_time(self.services, new.expires_at))
        return [SlotSet("authenticator_code", None), ActiveLoop("authenticator_code_form")]


class ValidateAuthenticatorCodeForm(FormValidationAction):
    def name(self) -> str:
        return "validate_authenticator_code_form"

    def validate_authenticator_code(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> dict[str, Any]:
        code = "".join(str(value or "").split())
        if len(code) == 6 and code.isdigit():
            return {"authenticator_code": code}
        dispatcher.utter_message(response="utter_authenticator_code_format")
        return {"authenticator_code": None}


class ActionConfirmAuthenticatorCode(AccountAction):
    def name(self) -> str:
        return "action_confirm_authenticator_code"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, ncid: str) -> list[EventType]:
        code = str(tracker.get_slot("authenticator_code") or "")
        result = self.services.accounts.activation.confirm(ncid=ncid, code=code, sender_id=tracker.sender_id,
                                                           channel=_channel(tracker))
        dispatcher.utter_message(response=f"utter_authenticator_{result}")
        events: list[EventType] = [SlotSet("authenticator_code", None)]  # never keep a code
        if result in ("wrong_code", "invalid_format"):
            events.append(ActiveLoop("authenticator_code_form"))
        return events


# --- phone changes --------------------------------------------------------------------------
class ActionChangePhone(AccountAction):
    def name(self) -> str:
        return "action_change_phone"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, ncid: str) -> list[EventType]:
        dispatcher.utter_message(response="utter_phone_change_intro")
        return [SlotSet("new_primary_phone", None), SlotSet("new_secondary_phone", None),
                ActiveLoop("phone_change_form")]


class ValidatePhoneChangeForm(FormValidationAction):
    def name(self) -> str:
        return "validate_phone_change_form"

    def validate_new_primary_phone(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> dict[str, Any]:
        try:
            return {"new_primary_phone": to_e164(str(value or ""))}
        except BadRequest:
            dispatcher.utter_message(response="utter_phone_invalid")
            return {"new_primary_phone": None}

    def validate_new_secondary_phone(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                     domain: DomainDict) -> dict[str, Any]:
        text = str(value or "").strip().lower().rstrip(".")
        if text in NO_SECONDARY:
            return {"new_secondary_phone": "none"}
        try:
            number = to_e164(text)
        except BadRequest:
            dispatcher.utter_message(response="utter_phone_invalid")
            return {"new_secondary_phone": None}
        if number == tracker.get_slot("new_primary_phone"):
            dispatcher.utter_message(response="utter_phone_same_as_primary")
            return {"new_secondary_phone": None}
        return {"new_secondary_phone": number}


class ActionSubmitPhoneChange(AccountAction):
    """Saves nothing yet: calls the new primary number; the change is saved only when that
    call is confirmed with # (see TestCallService)."""

    def name(self) -> str:
        return "action_submit_phone_change"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, ncid: str) -> list[EventType]:
        primary = tracker.get_slot("new_primary_phone")
        secondary = tracker.get_slot("new_secondary_phone")
        clear: list[EventType] = [SlotSet("new_primary_phone", None), SlotSet("new_secondary_phone", None)]
        if not primary:
            return clear
        calls = self.services.phone_calls
        try:
            placed = await calls.place(
                ncid=ncid, sender_id=tracker.sender_id, channel=_channel(tracker), purpose="change_phone",
                new_primary=primary, new_secondary=None if secondary in (None, "none") else secondary)
        except RateLimited as exc:
            _rate_limited(dispatcher, self.services, exc.retry_after)
            return clear
        except (BadRequest, ServiceUnavailable):
            dispatcher.utter_message(response="utter_test_call_unavailable")
            return clear
        dispatcher.utter_message(response="utter_phone_change_calling", to=display(primary),
                                 simulator=calls.simulator is not None)
        return clear


def build_account_actions(services: "Services | None") -> list[Action]:
    return [
        ValidateIdentityForm(services), ActionVerifyIdentity(services),
        ValidateRegistrationStatusForm(), ActionRegistrationStatus(services),
        ActionPlaceTestCall(services), ActionExplainTestCallOutcome(services),
        ActionNewActivationCode(services), ValidateAuthenticatorCodeForm(),
        ActionConfirmAuthenticatorCode(services),
        ActionChangePhone(services), ValidatePhoneChangeForm(), ActionSubmitPhoneChange(services),
    ]
