"""Slash commands: /mfa-assist for call-center agents (ephemeral), /mfa to start a DM."""

from __future__ import annotations

from typing import Any

from tests.fakes.slack_driver import SlackDriver, fake_slack, settings, slack  # noqa: F401
from tests.fakes.slack_server import TEAM, FakeSlack


def assist(slack: SlackDriver, fake: FakeSlack, text: str) -> tuple[dict[str, Any], str]:
    response = slack.command("/mfa-assist", text)
    assert response.status_code == 200 and response.text == ""  # acknowledged at once, answered later
    [answer] = fake.wait_for("response")
    body = answer.params
    return body, "\n".join(b["text"]["text"] for b in body["blocks"] if b["type"] == "section")


def test_assist_shows_the_problem_articles_with_scores_a_reply_and_next_actions(slack: SlackDriver,
                                                                                fake_slack: FakeSlack) -> None:
    body, text = assist(slack, fake_slack, "caller says she gets error code E05 user not found")
    assert body["response_type"] == "ephemeral"
    assert "`report_error`" in text and "error_code = `E05`" in text
    assert "Error E05: User Not Found" in text and "score " in text
    scores = [float(line.rsplit("score ", 1)[1].split()[0]) for line in text.splitlines() if "— score " in line]
    assert scores == sorted(scores, reverse=True) and len(scores) >= 1
    assert "*Suggested reply*" in text and ">You're seeing" in text
    assert "*Next actions:*" in text and "Check my NCID" in text
    assert fake_slack.of("chat.postMessage") == []  # nothing is posted in the channel


def test_assist_leaves_no_conversation_behind(slack: SlackDriver, fake_slack: FakeSlack, runtime: Any) -> None:
    assist(slack, fake_slack, "the call hung up before I pressed pound")
    from sqlalchemy import text as sql

    with runtime.services.engine.connect() as conn:
        assert conn.execute(sql("select count(*) from conversations")).scalar() == 0


def test_assist_redacts_personal_details_before_analysis(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    _, text = assist(slack, fake_slack, "caller ssn 123-45-6789 says E06")
    assert "123-45-6789" not in text and "removed" in text


def test_assist_without_text_explains_itself_when_the_form_cannot_open(slack: SlackDriver,
                                                                         fake_slack: FakeSlack) -> None:
    fake_slack.expired_triggers.add("1.2.3")  # Slack refuses a trigger id older than 3 seconds
    _, text = assist(slack, fake_slack, "   ")
    assert "/mfa-assist caller gets error E05" in text


def test_mfa_opens_a_dm_and_greets_there(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    before = slack.channel.turns_done
    response = slack.command("/mfa", "", user="U0CAROL")
    assert response.status_code == 200 and response.json()["response_type"] == "ephemeral"
    assert "direct message" in response.json()["text"]
    slack.wait_turns(before + 1)
    [opened] = fake_slack.of("conversations.open")
    assert opened.params["users"] == "U0CAROL"
    [greeting] = fake_slack.of("chat.postMessage")
    assert greeting.params["channel"] == "D0CAROL" and "NCTracks MFA help assistant" in greeting.params["text"]
    assert slack.client.get(f"/conversations/slack:{TEAM}:D0CAROL/tracker").status_code == 200


def test_assist_typed_alone_opens_a_form_and_answers_the_agent_privately(slack: SlackDriver,
                                                                         fake_slack: FakeSlack) -> None:
    assert slack.command("/mfa-assist", "", channel="C0AGENTS").status_code == 200
    [opened] = fake_slack.wait_for("views.open")
    assert opened.params["trigger_id"] == "1.2.3"
    view = opened.params["view"]
    response = slack.submit_view(view, {"caller": {"text": {"type": "plain_text_input",
                                                            "value": "he pressed 7 instead of pound"}}})
    assert response.status_code == 200 and response.text == ""  # the modal closes at once
    [answer] = fake_slack.wait_for("chat.postEphemeral")
    assert answer.params["channel"] == "C0AGENTS" and answer.params["user"] == "U0ALICE"
    text = "\n".join(b["text"]["text"] for b in answer.params["blocks"] if b["type"] == "section")
    assert "Not pressed" in text and "score " in text
    assert fake_slack.of("response") == [] and fake_slack.of("chat.postMessage") == []
