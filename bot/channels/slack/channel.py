"""The Slack channel: a slack-bolt AsyncApp served at POST /slack/events in our Starlette app.

Every request is acknowledged at once (Slack wants it within 3 s); the turn itself runs in a
lazy listener and its replies are posted with chat.postMessage. Retries (X-Slack-Retry-Num)
and repeated event ids are acknowledged and dropped, so a reply is never posted twice.
Bolt's RequestVerification rejects a bad signature or a stale timestamp with 401.
"""

from __future__ import annotations

import html
import logging
import re
import uuid
from collections import OrderedDict
from typing import Any, Awaitable, Callable

from slack_bolt import BoltResponse
from slack_bolt.adapter.starlette.async_handler import to_async_bolt_request, to_starlette_response
from slack_bolt.async_app import AsyncApp, AsyncBoltContext, AsyncBoltRequest
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.channels.slack.assist import ASSIST_MODAL, assist_blocks, assist_modal, submitted_text
from bot.channels.slack.blocks import BUTTON_ACTION, chosen_blocks, to_slack
from bot.channels.slack.installation import Tokens, oauth_flow
from bot.channels.slack.links import SlackLinks
from bot.channels.slack.pushes import forward_slack_pushes
from bot.channels.slack.senders import SlackPlace, is_dm_channel, parse_sender, place_for
from bot.channels.slack.settings import EVENTS_PATH, INSTALL_PATH, REDIRECT_PATH, SlackSettings
from bot.channels.slack.wording import say
from bot.dialogue.responses import BotMessage
from bot.dialogue.tracker import DialogueState
from bot.runtime import Runtime

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024
# Intents that act on or disclose an MFA account: answered only in a DM.
ACCOUNT_INTENTS = frozenset({"test_call", "new_activation_code_here", "change_phone_here", "check_registration"})
# Inside a form, an account intent must be at least this sure to count as a new request.
FORM_DIGRESSION_CONFIDENCE = 0.8
# Forms that collect contact details: started in a channel thread, they go on in the user's DM,
# with what the thread found out (the diagnosis a ticket carries) and the form's own fields.
PRIVATE_FORMS = frozenset({"ticket_form"})
FORM_CONTEXT_SLOTS = ("error_code", "call_failure", "mfa_method",
                      "ticket_stage", "ticket_failures", "ticket_confirmed", "subject", "message", "message_draft",
                      "npi", "phone", "phone_ext", "last_name", "first_name", "email")
_SEEN_EVENTS = 10_000
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
_LINK = re.compile(r"<((?:https?|mailto|tel):[^|>]+)(?:\|([^>]*))?>")


class SlackChannel:
    def __init__(self, *, runtime: Runtime, settings: SlackSettings) -> None:
        self.runtime = runtime
        self.settings = settings
        self.assistant = runtime.assistant
        self.links = SlackLinks(sessions=runtime.services.sessions, clock=runtime.services.clock)
        self.client = self._web_client(None if settings.oauth else settings.bot_token)
        self.flow = oauth_flow(settings, engine=runtime.services.engine, client=self.client) \
            if settings.oauth else None
        self.tokens = Tokens(settings=settings, flow=self.flow)
        self.app = AsyncApp(client=self.client, signing_secret=settings.signing_secret,
                            oauth_flow=self.flow, process_before_response=False,
                            raise_error_for_unhandled_request=False)
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._socket: Any = None
        self.turns_done = 0  # turns whose replies are all posted (tests and metrics read it)
        self.messages_ignored = 0  # message events that were not for the assistant
        self._register()
        # Messages nobody asked for (test-call outcomes, staff replies) reach Slack through the live hub.
        forward_slack_pushes(runtime.live, self.push)
        if self.assistant.live is not runtime.live:
            forward_slack_pushes(self.assistant.live, self.push)

    def _web_client(self, token: str | None) -> AsyncWebClient:
        """A Web API client that waits out Slack's rate limits (HTTP 429 + Retry-After) and tries
        again, since a turn posts several messages at once. Bolt copies it for every request."""
        client = AsyncWebClient(token=token, base_url=self.settings.api_url)
        client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
        return client

    # ------------------------------------------------------------------ wiring
    def _register(self) -> None:
        app = self.app
        app.middleware(self._drop_repeats)
        app.event("message")(ack=_ack, lazy=[self._on_message])
        app.event("app_mention")(ack=_ack, lazy=[self._on_mention])
        app.action(re.compile(rf"^{BUTTON_ACTION}_\d+$"))(ack=_ack, lazy=[self._on_button])
        app.command("/mfa-assist")(ack=_ack, lazy=[self._on_assist])
        app.view(ASSIST_MODAL)(ack=_ack, lazy=[self._on_assist_submitted])
        app.command("/mfa")(ack=_ack_dm_opened, lazy=[self._on_mfa])
        app.error(self._on_error)

    async def _drop_repeats(self, req: AsyncBoltRequest, resp: BoltResponse,
                            next: Callable[[], Awaitable[BoltResponse]]) -> BoltResponse:
        # Runs after bolt's signature check, so a forged retry is still a 401. In Socket Mode bolt
        # copies the envelope's retry_attempt into the same header, starting at "0".
        retry = (req.headers.get("x-slack-retry-num") or ["0"])[0]
        if retry != "0":
            log.info("ignoring Slack retry %s (%s)", retry, (req.headers.get("x-slack-retry-reason") or [""])[0])
            return BoltResponse(status=200, body="")
        event_id = req.body.get("event_id") if isinstance(req.body, dict) else None
        if isinstance(event_id, str):
            if event_id in self._seen:
                return BoltResponse(status=200, body="")
            self._seen[event_id] = None
            while len(self._seen) > _SEEN_EVENTS:
                self._seen.popitem(last=False)
        return await next()

    async def _on_error(self, error: Exception, body: dict[str, Any]) -> None:
        log.error("Slack listener failed: %r", error)

    async def start(self) -> None:
        if self.settings.socket_mode:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            self._socket = AsyncSocketModeHandler(self.app, self.settings.app_token)
            await self._socket.connect_async()

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None

    # --------------------------------------------------------------- listeners
    async def _on_message(self, event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient,
                          context: AsyncBoltContext) -> None:
        place = self._place_of_message(event, body, context)
        if place is None:
            self.messages_ignored += 1
            return
        await self.converse(place=place, user=str(event.get("user") or ""),
                            text=_clean(str(event.get("text") or "")), client=client)

    def _place_of_message(self, event: dict[str, Any], body: dict[str, Any],
                          context: AsyncBoltContext) -> SlackPlace | None:
        """The conversation a message event belongs to, or None when it is not for the assistant."""
        if event.get("subtype") or event.get("bot_id"):
            return None  # edits, joins, and our own posts
        team = str(body.get("team_id") or event.get("team") or "")
        channel = str(event.get("channel") or "")
        if event.get("channel_type") == "im" or is_dm_channel(channel):
            return SlackPlace(team=team, channel=channel)
        thread_ts = event.get("thread_ts")
        mentioned = bool(context.bot_user_id) and f"<@{context.bot_user_id}" in str(event.get("text") or "")
        if not thread_ts or mentioned:
            return None  # channel chatter; a mention arrives again as app_mention and is answered there
        place = SlackPlace(team=team, channel=channel, thread_ts=str(thread_ts))
        return place if self.assistant.store.exists(place.sender_id) else None  # not a thread of ours

    async def _on_mention(self, event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient) -> None:
        team = str(body.get("team_id") or event.get("team") or "")
        place = place_for(team=team, channel=str(event.get("channel") or ""), ts=event.get("ts"),
                          thread_ts=event.get("thread_ts"))
        text = _clean(str(event.get("text") or "")) or "/greet"  # a bare @mention is a hello
        await self.converse(place=place, user=str(event.get("user") or ""), text=text, client=client)

    async def _on_button(self, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        team = str((body.get("team") or {}).get("id") or "")
        channel = str((body.get("channel") or {}).get("id") or "")
        message = body.get("message") or {}
        place = place_for(team=team, channel=channel, ts=message.get("ts"), thread_ts=message.get("thread_ts"))
        title = str((action.get("text") or {}).get("text") or "")
        if message.get("ts") and message.get("blocks"):
            try:  # take the buttons off, so the choice shows and cannot be clicked twice
                await client.chat_update(channel=channel, ts=message["ts"], text=message.get("text") or title,
                                         blocks=chosen_blocks(message["blocks"], title))
            except SlackApiError as exc:
                log.warning("could not update the clicked message: %s", exc.response.get("error"))
        await self.converse(place=place, user=str((body.get("user") or {}).get("id") or ""),
                            text=str(action.get("value") or ""), client=client)

    async def _on_assist(self, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient) -> None:
        if not str(command.get("text") or "").strip() and command.get("trigger_id"):
            try:  # typed alone: a form to paste into (the trigger id lasts 3 s, so this goes first)
                await client.views_open(trigger_id=command["trigger_id"],
                                        view=assist_modal(channel_id=str(command.get("channel_id") or "")))
                return
            except SlackApiError as exc:
                log.warning("could not open the assist form: %s", exc.response.get("error"))
        text, blocks = await assist_blocks(text=str(command.get("text") or ""), assistant=self.assistant,
                                           kb=self.runtime.services.kb, public_url=self.settings.public_url)
        await respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)

    async def _on_assist_submitted(self, body: dict[str, Any], view: dict[str, Any],
                                   client: AsyncWebClient) -> None:
        text, blocks = await assist_blocks(text=submitted_text(view), assistant=self.assistant,
                                           kb=self.runtime.services.kb, public_url=self.settings.public_url)
        user = str((body.get("user") or {}).get("id") or "")
        channel = str(view.get("private_metadata") or "")
        if not channel:  # opened where we cannot answer ephemerally: answer in the agent's DM
            channel = str((await client.conversations_open(users=user))["channel"]["id"])
        await client.chat_postEphemeral(channel=channel, user=user, text=text, blocks=blocks)

    async def _on_mfa(self, command: dict[str, Any], client: AsyncWebClient) -> None:
        opened = await client.conversations_open(users=str(command["user_id"]))
        place = SlackPlace(team=str(command.get("team_id") or ""), channel=str(opened["channel"]["id"]))
        text = str(command.get("text") or "").strip() or "/greet"
        await self.converse(place=place, user=str(command["user_id"]), text=text, client=client)

    # ------------------------------------------------------------------- turns
    async def converse(self, *, place: SlackPlace, user: str, text: str, client: AsyncWebClient) -> None:
        """One turn for a Slack conversation, its replies posted where it happened."""
        try:
            await self._converse(place=place, user=user, text=text, client=client)
        finally:
            self.turns_done += 1

    async def _converse(self, *, place: SlackPlace, user: str, text: str, client: AsyncWebClient) -> None:
        sender = place.sender_id
        before = None if place.is_dm else self.assistant.state(sender)
        if not place.is_dm and self._is_account_request(text, before):
            await self._post(client, place, [BotMessage(text=say("dm_only"))])
            return
        session = _session(place, user)
        if place.is_dm and user and self.settings.trust_links:
            ncid = self.links.ncid_for(team_id=place.team, user_id=user)
            if ncid is not None:
                self.links.verify_dm(sender_id=sender, ncid=ncid, session=session,
                                     identity=self.runtime.services.accounts.identity)
        # Issue 14: an identity check passed here holds for this Slack user only.
        metadata = {"channel": "slack", "session": session, "client": session,
                    "slack": {"team": place.team, "user": user, "channel": place.channel,
                              "thread_ts": place.thread_ts}}
        try:
            messages = await self.assistant.handle_message(sender_id=sender, text=text, metadata=metadata)
        except Exception:
            reference = uuid.uuid4().hex[:12]
            log.exception("Slack turn failed, reference %s, sender %s", reference, sender)
            messages = [BotMessage(text=say("unexpected", reference=reference))]
        if not place.is_dm and user and (before is None or before.active_loop is None) \
                and self._active_loop(sender) in PRIVATE_FORMS:
            if await self._move_form_to_dm(place=place, user=user, opening=messages, client=client):
                return
        await self._post(client, place, messages, user=user)
        if place.is_dm and user:
            self._link_after_identity_check(place, user)

    def _active_loop(self, sender_id: str) -> str | None:
        state = self.assistant.state(sender_id)
        return state.active_loop if state is not None else None

    async def _move_form_to_dm(self, *, place: SlackPlace, user: str, opening: list[BotMessage],
                               client: AsyncWebClient) -> bool:
        """A form for contact details just started in a channel thread: it goes on in the user's
        DM. False (the form stays in the thread) when the DM cannot be opened."""
        try:
            opened = await client.conversations_open(users=user)
        except SlackApiError as exc:
            log.warning("could not open a DM for a form started in %s: %s", place.sender_id,
                        exc.response.get("error"))
            return False
        dm = SlackPlace(team=place.team, channel=str(opened["channel"]["id"]))
        note = BotMessage(text=say("form_moved_to_dm"))
        said = await self.assistant.move_form(
            from_sender=place.sender_id, to_sender=dm.sender_id, carry=FORM_CONTEXT_SLOTS, channel="slack",
            note=note, opening=[BotMessage(text=say("form_continued_in_dm")), *opening])
        if not said:  # the form was over before it could move (another turn ended it)
            return False
        await self._post(client, place, [note])
        await self._post(client, dm, said)
        return True

    def _is_account_request(self, text: str, state: DialogueState | None) -> bool:
        """Would this turn start an account action? Below the fallback threshold the engine only
        asks "did you mean…?" (a chosen button comes back as a payload, confidence 1); inside a
        form (a ticket in a thread) the text is first an answer, e.g. a phone number the NLU
        reads as test_call, so only a clear request is turned away there."""
        parse = self.runtime.interpreter.parse(text)
        if str(parse["intent"]["name"]) not in ACCOUNT_INTENTS:
            return False
        confidence = float(parse["intent"]["confidence"])
        in_form = state is not None and state.active_loop is not None
        threshold = self.runtime.settings.nlu.fallback_threshold
        return confidence >= (max(threshold, FORM_DIGRESSION_CONFIDENCE) if in_form else threshold)

    def _link_after_identity_check(self, place: SlackPlace, user: str) -> None:
        ncid = self.runtime.services.accounts.identity.verified_ncid(sender_id=place.sender_id,
                                                                     session=_session(place, user))
        if ncid is not None and self.links.ncid_for(team_id=place.team, user_id=user) != ncid:
            self.links.link(team_id=place.team, user_id=user, ncid_text=ncid, linked_by="identity_check")

    async def push(self, sender_id: str, messages: list[dict[str, Any]]) -> None:
        """Posts messages published for a Slack conversation (e.g. a test-call outcome)."""
        place = parse_sender(sender_id)
        if place is None:
            return
        token = await self.tokens.bot_token(place.team)
        if token is None:
            log.warning("no Slack installation for team %s; pushed message not posted", place.team)
            return
        client = self._web_client(token)
        bot_messages = [BotMessage(text=m.get("text"), buttons=list(m.get("buttons") or []),
                                   image=m.get("image"), custom=m.get("custom")) for m in messages]
        await self._post(client, place, bot_messages)

    async def _post(self, client: AsyncWebClient, place: SlackPlace, messages: list[BotMessage],
                    user: str | None = None) -> None:
        for message in messages:
            try:
                if message.stored is not None:
                    # Issue 14: a secret goes to its user alone, as an ephemeral DM message, which
                    # Slack keeps out of the conversation's history; the history gets the placeholder.
                    if place.is_dm and user:
                        live = to_slack(message, private=True)
                        await client.chat_postEphemeral(channel=place.channel, user=user, text=live.text,
                                                        blocks=live.blocks)
                    message = message.as_stored()
                slack = to_slack(message, private=place.is_dm)
                if slack.blocks:
                    await client.chat_postMessage(channel=place.channel, thread_ts=place.thread_ts,
                                                  text=slack.text, blocks=slack.blocks)
                for file in slack.files:
                    await client.files_upload_v2(channel=place.channel, file=file.content,
                                                 filename=file.filename, title=file.title,
                                                 initial_comment=say("file_comment"))
            except SlackClientError as exc:
                log.error("posting to Slack %s failed: %s", place.sender_id, exc)
                return

    # ------------------------------------------------------------------- HTTP
    async def handle(self, request: Request) -> Response:
        body = await _read_body(request)
        if isinstance(body, Response):
            return body
        try:
            bolt_request = to_async_bolt_request(request, body)
        except (ValueError, TypeError, KeyError) as exc:
            return JSONResponse({"error": f"malformed Slack request: {exc}"}, status_code=400)
        return to_starlette_response(await self.app.async_dispatch(bolt_request))

    async def oauth(self, request: Request) -> Response:
        assert self.flow is not None
        bolt_request = to_async_bolt_request(request, b"")
        if request.url.path == INSTALL_PATH:
            return to_starlette_response(await self.flow.handle_installation(bolt_request))
        return to_starlette_response(await self.flow.handle_callback(bolt_request))


async def _ack(ack: AsyncAck) -> None:
    await ack()


async def _ack_dm_opened(ack: AsyncAck) -> None:
    await ack(text=say("dm_opened"), response_type="ephemeral")


async def _read_body(request: Request) -> bytes | Response:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return JSONResponse({"error": f"request body is larger than {MAX_BODY_BYTES} bytes"}, status_code=413)
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return JSONResponse({"error": f"request body is larger than {MAX_BODY_BYTES} bytes"},
                                status_code=413)
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return JSONResponse({"error": "request body is not valid UTF-8"}, status_code=400)
    return body


def _clean(text: str) -> str:
    """Slack's markup back to what the user typed: no mentions, links as their text."""
    text = _MENTION.sub(" ", text)
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    return html.unescape(" ".join(text.split()))


def build_slack_channel(runtime: Runtime) -> SlackChannel | None:
    settings = SlackSettings.from_settings(runtime.settings)
    return SlackChannel(runtime=runtime, settings=settings) if settings is not None else None


def routes(channel: SlackChannel) -> list[BaseRoute]:
    """/slack/* routes of a configured channel (bot.channels.slack.settings.not_configured_routes
    answers them when Slack is off)."""
    out: list[BaseRoute] = [Route(EVENTS_PATH, channel.handle, methods=["POST"])]
    if channel.flow is not None:
        out += [Route(INSTALL_PATH, channel.oauth, methods=["GET"]),
                Route(REDIRECT_PATH, channel.oauth, methods=["GET"])]
    return out


def _session(place: SlackPlace, user: str) -> str:
    """The channel session an identity check is bound to (issue 14): the Slack user."""
    return f"slack:{place.team}:{user or '-'}"
