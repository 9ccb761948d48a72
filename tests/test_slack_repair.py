"""Issue 13 over Slack: a follow-up keeps the topic, a digression in a walkthrough is answered in
place, and a plain-words refusal stops the identity check, all through Slack's event payloads."""

from __future__ import annotations

from typing import Any

from tests.fakes.slack_driver import SlackDriver, fake_slack, settings, slack, text_of  # noqa: F401


def test_a_follow_up_in_a_dm_is_answered_from_the_topic(slack: SlackDriver) -> None:
    slack.say_dm("I got error E05")
    follow = slack.say_dm("how many minutes should I give it?")
    assert "60 minutes" in text_of(follow)
    assert "Did you mean" not in text_of(follow)


def test_a_question_during_a_walkthrough_is_answered_and_the_step_offered_back(slack: SlackDriver) -> None:
    slack.say_dm("walk me through setting up phone calls for MFA")
    slack.say_dm("done")
    step3 = slack.say_dm("done")
    assert "step 3 of 7" in text_of(step3)
    digression = slack.say_dm("hang on, what is the second number there for?")
    assert "secondary" in text_of(digression) and "step 3 of 7" in text_of(digression)


def test_a_plain_words_refusal_stops_the_identity_check_in_a_dm(slack: SlackDriver, demo_accounts: Any) -> None:
    asked = slack.say_dm("please ring my phone as a test")
    assert "NCID" in text_of(asked)
    stopped = slack.say_dm("no wait, forget it, don't ring me")
    assert "cancelled" in text_of(stopped).lower()
    assert "doesn't look like an NCID" not in text_of(stopped)
