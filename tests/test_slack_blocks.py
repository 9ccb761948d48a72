"""Bot messages as Block Kit and Slack mrkdwn."""

from __future__ import annotations

import base64

from bot.channels.slack.blocks import chosen_blocks, to_slack
from bot.channels.slack.senders import SlackPlace, parse_sender, place_for
from bot.dialogue.responses import BotMessage


def test_markdown_becomes_mrkdwn_with_slack_links() -> None:
    message = to_slack(BotMessage(text="**Go** to the [State MFA Portal](https://tmfamobile.nc.gov/userportal/)."),
                       private=False)
    [block] = message.blocks
    assert block["text"] == {"type": "mrkdwn",
                             "text": "*Go* to the <https://tmfamobile.nc.gov/userportal/|State MFA Portal>."}
    assert message.text == "Go to the State MFA Portal (https://tmfamobile.nc.gov/userportal/)."


def test_user_text_cannot_inject_slack_markup_or_unsafe_links() -> None:
    text = to_slack(BotMessage(text="<!channel> & [x](javascript:alert(1))"), private=False).blocks[0]["text"]["text"]
    assert "<!channel>" not in text and "&lt;!channel&gt; &amp;" in text  # no @channel ping
    assert "<javascript" not in text and "|x>" not in text  # an unsafe link never becomes a link


def test_buttons_carry_their_payload_and_wrap_in_rows() -> None:
    buttons = [{"title": f"Option {i}", "payload": f"/intent_{i}"} for i in range(7)]
    blocks = to_slack(BotMessage(text="Pick one", buttons=buttons), private=True).blocks
    rows = [b for b in blocks if b["type"] == "actions"]
    assert [len(r["elements"]) for r in rows] == [5, 2]
    first = rows[0]["elements"][0]
    assert first["value"] == "/intent_0" and first["text"]["text"] == "Option 0"
    ids = [e["action_id"] for r in rows for e in r["elements"]]
    assert len(set(ids)) == 7  # action ids are unique within a message, as Slack requires


def test_long_text_is_split_into_sections_slack_accepts() -> None:
    text = "\n\n".join(f"Paragraph {i} " + "word " * 60 for i in range(30))
    sections = to_slack(BotMessage(text=text), private=False).blocks
    assert len(sections) > 1 and all(len(b["text"]["text"]) <= 3000 for b in sections)
    assert "".join(b["text"]["text"] for b in sections).count("Paragraph") == 30


def test_a_web_image_is_an_image_block() -> None:
    blocks = to_slack(BotMessage(image="https://example.org/a.png"), private=False).blocks
    assert blocks == [{"type": "image", "image_url": "https://example.org/a.png", "alt_text": "image"}]


def test_a_qr_code_is_a_png_file_in_a_dm_and_nothing_in_a_channel() -> None:
    svg = "data:image/svg+xml;base64," + base64.b64encode(b"<svg/>").decode()
    message = BotMessage(text="Activation code: ABCD\nURL: otpauth://totp/NCTracks%20MFA:u1?secret=ABCD&issuer=X",
                         image=svg)
    private = to_slack(message, private=True)
    [file] = private.files
    assert file.filename == "activation-qr.png" and file.content.startswith(b"\x89PNG")
    public = to_slack(message, private=False)
    assert public.files == [] and all(b["type"] != "image" for b in public.blocks)


def test_a_clicked_message_loses_its_buttons_and_shows_the_choice() -> None:
    blocks = to_slack(BotMessage(text="Pick", buttons=[{"title": "Done", "payload": "/affirm"}]), private=True).blocks
    after = chosen_blocks(blocks, "Done")
    assert [b["type"] for b in after] == ["section", "context"] and "Done" in after[-1]["elements"][0]["text"]


def test_conversations_are_one_per_dm_and_one_per_thread() -> None:
    assert place_for(team="T1", channel="D1", ts="1.1", thread_ts="0.9").sender_id == "slack:T1:D1"
    assert place_for(team="T1", channel="C1", ts="1.1").sender_id == "slack:T1:C1:1.1"
    assert place_for(team="T1", channel="C1", ts="1.5", thread_ts="1.1").sender_id == "slack:T1:C1:1.1"
    assert parse_sender("slack:T1:C1:1.1") == SlackPlace("T1", "C1", "1.1")
    assert parse_sender("slack:T1:D1") == SlackPlace("T1", "D1") and parse_sender("web-123") is None
