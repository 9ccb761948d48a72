"""Conversation scripts through Slack payloads: a DM with button clicks, a thread started by a
mention, account requests kept to DMs, a test-call outcome posted into the DM later, and an
agent taking a DM over from the staff console."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tests.fakes.slack_driver import (ALICE_DM, GENERAL, SlackDriver, fake_slack, settings, slack,  # noqa: F401
                                      text_of)
from bot.tickets.models import Ticket
from tests.fakes.slack_server import TEAM, FakeSlack
from tests.fakes.staff import add_staff, sign_in


def buttons(call: Any) -> list[str]:
    return [e["text"]["text"] for b in call.params.get("blocks") or [] if b["type"] == "actions"
            for e in b["elements"]]


def mrkdwn(call: Any) -> str:
    return "\n".join(b["text"]["text"] for b in call.params.get("blocks") or [] if b["type"] == "section")


def test_e05_in_a_dm_is_answered_as_block_kit_with_slack_links(slack: SlackDriver) -> None:
    replies = slack.say_dm("I got error E05")
    article = mrkdwn(replies[0])
    assert "<https://tmfamobile.nc.gov/userportal/|State MFA Portal>" in article
    assert "**" not in article and "](" not in article  # no raw Markdown reaches Slack
    assert "*Is your NCID brand new?*" in article
    assert "Check my NCID" in buttons(replies[-1])


def test_a_button_click_continues_the_dm_and_takes_the_buttons_off(slack: SlackDriver,
                                                                   fake_slack: FakeSlack,
                                                                   demo_accounts: Any) -> None:
    offer = slack.say_dm("I got error E05")[-1]
    asked = slack.turn(lambda: slack.click(offer, "Check my NCID"))
    assert "What is your NCID" in text_of(asked)
    [update] = fake_slack.of("chat.update")
    assert update.params["ts"] == offer.response["ts"]
    assert not any(b["type"] == "actions" for b in update.params["blocks"])
    assert "Check my NCID" in update.params["blocks"][-1]["elements"][0]["text"]
    status = slack.say_dm("newuser01")
    assert "wait" in text_of(status) and "minutes" in text_of(status)
    tracker = slack.client.get(f"/conversations/slack:{TEAM}:{ALICE_DM}/tracker").json()
    assert tracker["latest_message"]["text"] == "newuser01"


def test_a_mention_is_answered_in_a_thread_that_keeps_its_own_conversation(slack: SlackDriver) -> None:
    root = slack.ts()
    first = slack.turn(lambda: slack.mention("how do I register for MFA", ts=root))
    assert all(c.params["channel"] == GENERAL and c.params["thread_ts"] == root for c in first)
    assert "Phone Call" in text_of(first) or "phone" in text_of(first).lower()
    # A reply in the thread without a mention continues the same conversation.
    follow = slack.turn(lambda: slack.thread_reply("what does E06 mean", thread_ts=root))
    assert follow and all(c.params["thread_ts"] == root for c in follow)
    assert "E06" in text_of(follow)
    sender = f"slack:{TEAM}:{GENERAL}:{root}"
    events = slack.client.get(f"/conversations/{sender}/tracker").json()["events"]
    assert [e["text"] for e in events if e["event"] == "user"] == ["how do I register for MFA",
                                                                     "what does E06 mean"]


def test_a_reply_in_a_thread_the_assistant_is_not_in_is_ignored(slack: SlackDriver,
                                                                 fake_slack: FakeSlack) -> None:
    slack.ignored(lambda: slack.thread_reply("what does E06 mean", thread_ts="1764340000.999999"))
    slack.ignored(lambda: slack.event({"type": "message", "channel_type": "channel", "channel": GENERAL,
                                       "user": "U0ALICE", "text": "lunch?", "ts": slack.ts(), "team": TEAM}))
    assert fake_slack.of("chat.postMessage") == [] and slack.channel.turns_done == 0


def test_account_requests_in_a_thread_are_sent_to_the_dm(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    root = slack.ts()
    for text in ("can you call my phone to test it", "/new_activation_code_here", "/check_registration"):
        replies = slack.turn(lambda t=text: slack.mention(t, ts=root))  # type: ignore[misc]
        assert "direct message" in text_of(replies) and "NCID" not in text_of(replies)
    assert fake_slack.of("files.getUploadURLExternal") == []
    assert slack.client.get(f"/conversations/slack:{TEAM}:{GENERAL}:{root}/tracker").status_code == 404


def verify_in_dm(slack: SlackDriver, ask: str, ncid: str = "phoneuser01") -> list[Any]:
    for text in (ask, ncid, "rex"):
        slack.say_dm(text)
    return slack.say_dm("ford")


def test_a_test_call_outcome_is_posted_into_the_dm_when_it_arrives(slack: SlackDriver, fake_slack: FakeSlack,
                                                                   scripted_accounts: None,
                                                                   demo_accounts: Any) -> None:
    placed = verify_in_dm(slack, "can you call my phone to test it")
    assert "Calling your primary number" in text_of(placed)
    before = slack.count()
    [call] = slack.client.get("/dev/phone/calls").json()["calls"]
    slack.client.post(f"/dev/phone/calls/{call['sid']}/answer")
    slack.client.post(f"/dev/phone/calls/{call['sid']}/press", json={"digit": "#"})
    pushed = slack.replies(1, after=before)
    assert "Test call confirmed" in text_of(pushed)
    assert pushed[0].params["channel"] == ALICE_DM and "thread_ts" not in pushed[0].params


def test_a_failed_test_call_is_explained_in_the_dm_with_a_retry_button(slack: SlackDriver,
                                                                       scripted_accounts: None,
                                                                       demo_accounts: Any) -> None:
    verify_in_dm(slack, "can you call my phone to test it")
    before = slack.count()
    [call] = slack.client.get("/dev/phone/calls").json()["calls"]
    slack.client.post(f"/dev/phone/calls/{call['sid']}/answer")
    slack.client.post(f"/dev/phone/calls/{call['sid']}/press", json={"digit": "7"})
    pushed = slack.replies(3, after=before)
    assert "# Not pressed After Entry" in text_of(pushed)
    assert "Call me again" in buttons(pushed[-1])


def test_an_activation_code_reaches_only_its_user_and_slack_history_keeps_a_placeholder(
        slack: SlackDriver, fake_slack: FakeSlack, scripted_accounts: None, demo_accounts: Any) -> None:
    """Issue 14: the secret goes as an ephemeral DM message (never in the channel's history,
    never an uploaded file that outlives it); the kept message is the placeholder."""
    replies = verify_in_dm(slack, "/new_activation_code_here", ncid="appuser01")
    assert "Activation code:" not in text_of(replies) and "otpauth://" not in text_of(replies)
    assert "[activation code shown, expires" in text_of(replies)
    [secret] = fake_slack.wait_for("chat.postEphemeral", 1)
    assert secret.params["channel"] == ALICE_DM and secret.params["user"] == "U0ALICE"
    assert "Activation code:" in str(secret.params["text"])
    assert fake_slack.of("files.getUploadURLExternal") == []


def test_the_identity_check_in_a_dm_links_the_slack_user(slack: SlackDriver, scripted_accounts: None,
                                                         demo_accounts: Any, runtime: Any, clock: Any) -> None:
    verify_in_dm(slack, "can you call my phone to test it")
    assert slack.channel.links.ncid_for(team_id=TEAM, user_id="U0ALICE") == "phoneuser01"
    clock.advance(minutes=30)  # the conversation's own verification has expired by now
    again = slack.say_dm("call my phone again to test it")
    assert "Calling your primary number" in text_of(again) and "NCID" not in text_of(again)


def test_an_operator_link_lets_the_linked_user_act_in_their_dm(slack: SlackDriver, scripted_accounts: None,
                                                               demo_accounts: Any) -> None:
    slack.channel.links.link(team_id=TEAM, user_id="U0BOB", ncid_text="PhoneUser01", linked_by="operator")
    replies = slack.say_dm("can you call my phone to test it", user="U0BOB", channel="D0BOB")
    assert "Calling your primary number" in text_of(replies)
    # Someone else in the workspace is not that user.
    other = slack.say_dm("can you call my phone to test it", user="U0EVE", channel="D0EVE")
    assert "What is your NCID" in text_of(other)


def test_a_mention_inside_a_thread_is_answered_once(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    root = slack.ts()
    first = slack.turn(lambda: slack.mention("what is mfa", ts=root))
    # Slack sends a mention in a thread twice: as message.channels and as app_mention.
    ts = slack.ts()
    slack.ignored(lambda: slack.event({"type": "message", "channel_type": "channel", "channel": GENERAL,
                                       "user": "U0ALICE", "text": "<@UBOT> what does E06 mean", "ts": ts,
                                       "thread_ts": root, "team": TEAM}))
    replies = slack.turn(lambda: slack.mention("what does E06 mean", ts=ts, thread_ts=root))
    assert "E06" in text_of(replies)
    in_thread = [c for c in fake_slack.of("chat.postMessage") if c.params.get("thread_ts") == root]
    assert len(in_thread) == len(first) + len(replies)


async def test_anything_published_for_a_slack_conversation_is_posted_there(slack: SlackDriver,
                                                                           fake_slack: FakeSlack,
                                                                           runtime: Any) -> None:
    # e.g. a staff member's reply during a handoff (bot/staff/handoff.py publishes to runtime.live)
    thread = f"slack:{TEAM}:{GENERAL}:1764340000.000777"
    await runtime.live.publish(thread, [{"text": "Hi, this is **Dana** from the call center."}])
    [post] = fake_slack.of("chat.postMessage")
    assert post.params["channel"] == GENERAL and post.params["thread_ts"] == "1764340000.000777"
    assert "*Dana*" in mrkdwn(post)
    await runtime.live.publish("web-123", [{"text": "not for Slack"}])
    assert len(fake_slack.of("chat.postMessage")) == 1


def test_a_bare_mention_is_greeted_in_its_thread(slack: SlackDriver) -> None:
    root = slack.ts()
    replies = slack.turn(lambda: slack.mention("", ts=root))
    assert "NCTracks MFA help assistant" in text_of(replies) and replies[0].params["thread_ts"] == root
    assert "I got an error message" in buttons(replies[0])


def test_a_ticket_asked_for_in_a_thread_is_filled_in_the_dm_and_carries_the_thread(
        slack: SlackDriver, fake_slack: FakeSlack, runtime: Any) -> None:
    root = slack.ts()
    slack.turn(lambda: slack.mention("I got error E05", ts=root))
    offer = slack.turn(lambda: slack.thread_reply("I need to talk to a person", thread_ts=root))
    moved = slack.turn(lambda: slack.click(offer[-1], "File a ticket"))
    # The thread gets one note; the form's intro and first question go to the DM.
    note, dm = moved[0], moved[1:]
    assert note.params["channel"] == GENERAL and note.params["thread_ts"] == root
    assert "direct message" in text_of([note]) and "NPI" not in text_of([note])
    assert dm and all(c.params["channel"] == ALICE_DM and "thread_ts" not in c.params for c in dm)
    assert "channel thread" in text_of(dm) and "NPI" in text_of(dm)
    thread = f"slack:{TEAM}:{GENERAL}:{root}"
    assert slack.channel.assistant.state(thread).active_loop is None
    state = slack.channel.assistant.state(f"slack:{TEAM}:{ALICE_DM}")
    assert state.active_loop == "ticket_form" and state.slots["error_code"] == "E05"
    assert "E05" in state.slots["message_draft"]  # the drafted message names the thread's error

    for answer in ("1234567893", "919-555-0134", "Smith", "Pat", "MFA Issue"):
        slack.say_dm(answer)
    draft = slack.say_dm("pat.smith@example.org")  # the drafted message is shown for acceptance
    assert "E05" in text_of(draft) and "Use this message" in buttons(draft[-1])
    summary = slack.turn(lambda: slack.click(draft[-1], "Use this message"))
    assert "Submit" in buttons(summary[-1])
    submitted = slack.turn(lambda: slack.click(summary[-1], "Submit"))
    assert "tracking number" in text_of(submitted).lower()
    in_channel = text_of([c for c in fake_slack.of("chat.postMessage") if c.params["channel"] == GENERAL])
    assert "555-0134" not in in_channel and "pat.smith" not in in_channel and "1234567893" not in in_channel

    with runtime.services.sessions() as session:
        ticket = session.scalars(select(Ticket)).one()
    assert ticket.sender_id == f"slack:{TEAM}:{ALICE_DM}" and ticket.error_code == "E05"
    said = [item["text"] for item in ticket.transcript]
    assert said[0] == "I got error E05"  # the thread comes first ...
    assert "pat.smith@example.org" in said  # ... then the DM
    assert slack.channel.assistant.state(f"slack:{TEAM}:{ALICE_DM}").slots.get("continued_from") is None


def test_a_ticket_form_stays_in_the_thread_when_no_dm_can_be_opened_and_takes_a_phone_number(
        slack: SlackDriver, fake_slack: FakeSlack) -> None:
    # The NLU reads a bare phone number as test_call (with low confidence); in the form it is an answer.
    fake_slack.refused["conversations.open"] = "missing_scope"
    root = slack.ts()
    slack.turn(lambda: slack.mention("I got error E05", ts=root))
    offer = slack.turn(lambda: slack.thread_reply("I need to talk to a person", thread_ts=root))
    assert "File a ticket" in buttons(offer[-1])
    assert "NPI" in text_of(slack.turn(lambda: slack.click(offer[-1], "File a ticket")))
    assert "phone number" in text_of(slack.turn(lambda: slack.thread_reply("1234567893", thread_ts=root)))
    answer = slack.turn(lambda: slack.thread_reply("919-555-0134", thread_ts=root))
    assert "direct message" not in text_of(answer) and all(c.params["thread_ts"] == root for c in answer)
    state = slack.channel.assistant.state(f"slack:{TEAM}:{GENERAL}:{root}")
    assert "555" in str(state.slots.get("phone")) and state.active_loop == "ticket_form"
    # A clear account request inside the form is still sent to the DM, and the form stays as it was.
    refused = slack.turn(lambda: slack.thread_reply("can you call my phone to test it", thread_ts=root))
    assert "direct message" in text_of(refused)
    assert slack.channel.assistant.state(f"slack:{TEAM}:{GENERAL}:{root}").active_loop == "ticket_form"


def test_an_agent_takes_over_a_slack_dm_replies_into_it_and_hands_it_back(slack: SlackDriver, fake_slack: FakeSlack,
                                                                          runtime: Any, clock: Any) -> None:
    add_staff(runtime, "agent")
    csrf = sign_in(slack.client, clock, "agent")
    slack.say_dm("I got error E05")
    sender, before = f"slack:{TEAM}:{ALICE_DM}", slack.count()
    taken = slack.client.post(f"/staff/conversations/{sender}/take-over", data={"csrf_token": csrf})
    assert taken.status_code == 200
    assert "has joined this chat" in text_of(slack.replies(1, after=before))

    assert slack.say_dm("it still says user not found") == []  # held for the agent: the assistant is quiet
    seen = slack.client.get(f"/staff/conversations/{sender}/messages", params={"after": "0"}).json()
    assert seen["messages"][-1]["text"] == "it still says user not found"

    before = slack.count()
    sent = slack.client.post(f"/staff/conversations/{sender}/reply", data={"text": "Let me look up your NCID."},
                             headers={"X-CSRF-Token": csrf, "Accept": "application/json"})
    assert sent.json() == {"sent": True}
    [reply] = slack.replies(1, after=before)
    assert "Let me look up your NCID." in text_of([reply]) and "thread_ts" not in reply.params

    before = slack.count()
    slack.client.post(f"/staff/conversations/{sender}/hand-back", data={"csrf_token": csrf})
    assert "back" in text_of(slack.replies(1, after=before)).lower()
    assert "60 minutes" in text_of(slack.say_dm("I got error E05"))
