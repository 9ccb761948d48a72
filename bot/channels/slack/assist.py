"""``/mfa-assist <what the caller says>``: what a call-center agent needs, in one ephemeral
message: the recognised problem, the top KB articles with BM25 scores, the reply the assistant
would give (to read out) and the next actions.

The suggested reply comes from the real dialogue engine, run on a scratch conversation that
is never stored, so it is exactly what the caller would be told in chat.
"""

from __future__ import annotations

import uuid
from typing import Any

from bot.assistant import Assistant
from bot.channels.slack.blocks import mrkdwn, section
from bot.channels.slack.wording import say
from bot.dialogue.engine import Turn
from bot.dialogue.responses import BotMessage
from bot.dialogue.tracker import DialogueState
from bot.knowledge.articles import KnowledgeBase
from bot.knowledge.articles import snippet

TOP_ARTICLES = 3
CHANNEL = "slack"


async def assist_blocks(*, text: str, assistant: Assistant, kb: KnowledgeBase,
                        public_url: str | None) -> tuple[str, list[dict[str, Any]]]:
    """(fallback text, blocks) for the agent."""
    text = " ".join(text.split())
    if not text:
        return say("assist_usage"), section(mrkdwn(say("assist_usage")))
    text = text[: assistant.max_message_chars]
    notes: list[dict[str, Any]] = []
    if assistant.phi_scanner is not None:
        finding = assistant.phi_scanner(text)
        if finding.kinds:
            text = finding.text  # nothing personal is echoed, parsed or searched
            notes = section(say("assist_phi", kinds=", ".join(finding.kinds)))
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": f"> {_escape(text)}"}},
                                    *notes]
    parse = assistant.interpreter.parse(text)
    intent = str(parse["intent"]["name"])
    labels = assistant.engine.domain.intent_labels
    lines = [say("assist_recognised", intent=f"{labels.get(intent, intent)} (`{intent}`)",
                 confidence=float(parse["intent"]["confidence"]))]
    pairs = dict.fromkeys((str(e["entity"]), str(e["value"])) for e in parse.get("entities") or [])
    entities = ", ".join(f"{name} = `{_escape(value)}`" for name, value in pairs)
    lines.append(say("assist_entities", entities=entities) if entities else say("assist_no_entities"))
    blocks += section("\n".join(lines))

    hits = kb.search(text, limit=TOP_ARTICLES)
    if hits:
        rows = [say("assist_articles")]
        for hit in hits:
            title = _escape(hit.article.title)
            link = f"<{public_url.rstrip('/')}/kb/articles/{hit.article.id}|{title}>" if public_url else f"*{title}*"
            rows.append(f"• {link} — score {hit.score:.2f}\n   _{_escape(snippet(hit.article, text))}_")
        blocks += section("\n".join(rows))
    else:
        blocks += section(say("assist_no_articles"))

    replies = await _suggested_reply(assistant, parse)
    reply_text = "\n\n".join(mrkdwn(m.text) for m in replies if m.text)
    if reply_text:
        quoted = "\n".join(f">{line}" if line else ">" for line in reply_text.splitlines())
        blocks += section(f"{say('assist_reply')}\n{quoted}")
    actions = [b["title"] for m in replies for b in m.buttons if b.get("title")]
    next_lines = [f"• {_escape(title)}" for title in dict.fromkeys(actions)]
    next_lines.append(f"• {say('assist_escalate')}")
    blocks += section(f"{say('assist_next')}\n" + "\n".join(next_lines))
    fallback = f"{labels.get(intent, intent)}: " + ", ".join(h.article.title for h in hits)
    return fallback, blocks


ASSIST_MODAL = "mfa_assist_modal"
ASSIST_BLOCK, ASSIST_INPUT = "caller", "text"


def assist_modal(*, channel_id: str) -> dict[str, Any]:
    """The form `/mfa-assist` opens when typed alone: room to paste a longer description."""
    return {
        "type": "modal", "callback_id": ASSIST_MODAL, "private_metadata": channel_id,
        "title": {"type": "plain_text", "text": say("assist_modal_title")},
        "submit": {"type": "plain_text", "text": say("assist_modal_submit")},
        "blocks": [{
            "type": "input", "block_id": ASSIST_BLOCK,
            "label": {"type": "plain_text", "text": say("assist_modal_label")},
            "element": {"type": "plain_text_input", "action_id": ASSIST_INPUT, "multiline": True,
                        "max_length": 2000,
                        "placeholder": {"type": "plain_text", "text": say("assist_modal_placeholder")}},
        }],
    }


def submitted_text(view: dict[str, Any]) -> str:
    values = ((view.get("state") or {}).get("values") or {}).get(ASSIST_BLOCK) or {}
    return str((values.get(ASSIST_INPUT) or {}).get("value") or "")


async def _suggested_reply(assistant: Assistant, parse: dict[str, Any]) -> list[BotMessage]:
    state = DialogueState(f"slack-assist:{uuid.uuid4().hex}")
    now = assistant.clock.now().timestamp()
    state.apply({"event": "session_started", "timestamp": now})
    state.apply({"event": "user", "text": parse.get("text"), "timestamp": now,
                 "parse_data": {k: parse[k] for k in ("intent", "entities", "intent_ranking")},
                 "input_channel": CHANNEL})
    return await assistant.engine.run_turn(Turn(state=state, parse=parse, channel=CHANNEL, timestamp=now))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
