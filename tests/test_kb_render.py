"""render(): plain text, safe HTML and Slack mrkdwn from article Markdown."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.knowledge import KnowledgeBase, render

KB_DIR = Path(__file__).resolve().parents[1] / "kb"


# text


def test_text_drops_emphasis_markers() -> None:
    assert render("Select **Log In** and *wait*.", "text") == "Select Log In and wait."


def test_text_shows_links_as_label_and_url() -> None:
    assert render("[Portal](https://tmfamobile.nc.gov/userportal/)", "text") == (
        "Portal (https://tmfamobile.nc.gov/userportal/)"
    )


def test_text_shows_an_autolink_once() -> None:
    assert render("<https://tmfamobile.nc.gov/userportal>", "text") == "https://tmfamobile.nc.gov/userportal"


def test_text_shows_mail_links_as_the_address() -> None:
    assert render("[Email us](mailto:a@b.org)", "text") == "Email us (a@b.org)"


def test_text_keeps_numbered_lists() -> None:
    assert render("1. One\n2. Two\n", "text") == "1. One\n2. Two"


def test_text_keeps_ordered_list_start_number() -> None:
    assert render("3. Three\n4. Four\n", "text") == "3. Three\n4. Four"


def test_text_keeps_bullets_with_a_dash() -> None:
    assert render("- One\n- Two\n", "text") == "- One\n- Two"


def test_text_indents_nested_lists() -> None:
    assert render("1. Step\n   - detail\n2. Next\n", "text") == "1. Step\n   - detail\n2. Next"


def test_text_separates_paragraphs_with_a_blank_line() -> None:
    assert render("One.\n\nTwo.", "text") == "One.\n\nTwo."


def test_text_joins_soft_line_breaks() -> None:
    assert render("One\nline.", "text") == "One line."


def test_text_shows_headings_without_hashes() -> None:
    assert render("## Steps\n\nDo it.", "text") == "Steps\n\nDo it."


def test_text_leaves_raw_html_as_literal_text() -> None:
    assert render("a <b>x</b> & b", "text") == "a <b>x</b> & b"


# html


def test_html_renders_commonmark() -> None:
    assert render("Select **Log In**.", "html") == "<p>Select <strong>Log In</strong>.</p>\n"


def test_html_escapes_raw_html() -> None:
    html = render("<script>alert(1)</script> <b>x</b>", "html")
    assert "<script>" not in html and "&lt;script&gt;" in html and "<b>" not in html


def test_html_links_open_in_a_new_tab_without_opener() -> None:
    assert render("[Portal](https://x.org/)", "html") == (
        '<p><a href="https://x.org/" target="_blank" rel="noopener noreferrer">Portal</a></p>\n'
    )


@pytest.mark.parametrize("href", ["http://x.org", "https://x.org", "mailto:a@b.org", "tel:+18006886696"])
def test_html_keeps_safe_link_schemes(href: str) -> None:
    assert f'href="{href}"' in render(f"[go]({href})", "html")


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        "JAVASCRIPT:alert(1)",
        "data:text/html;base64,PHA+",
        "vbscript:x",
        "/relative",
        "ftp://x.org",
    ],
)
def test_html_drops_other_link_schemes(href: str) -> None:
    assert "<a " not in render(f"[go]({href})", "html")


def test_html_drops_unsafe_autolinks() -> None:
    assert "<a " not in render("<javascript:alert(1)>", "html")


def test_html_drops_unsafe_images() -> None:
    assert "<img" not in render("![x](javascript:alert(1))", "html")


# slack


def test_slack_bold_uses_single_asterisks() -> None:
    assert render("Select **Log In**.", "slack") == "Select *Log In*."


def test_slack_italic_uses_underscores() -> None:
    assert render("*now*", "slack") == "_now_"


def test_slack_links_use_angle_brackets() -> None:
    assert render("[Portal](https://x.org/a?b=1)", "slack") == "<https://x.org/a?b=1|Portal>"


def test_slack_autolinks_show_the_url_once() -> None:
    assert render("<https://x.org/>", "slack") == "<https://x.org/>"


def test_slack_mail_autolinks_show_the_address() -> None:
    assert render("<a@b.org>", "slack") == "<mailto:a@b.org|a@b.org>"


def test_slack_bullets_use_a_bullet_character() -> None:
    assert render("- One\n- Two\n", "slack") == "• One\n• Two"


def test_slack_escapes_control_characters() -> None:
    assert render("a < b & c > d", "slack") == "a &lt; b &amp; c &gt; d"


def test_slack_headings_become_bold_lines() -> None:
    assert render("# Steps", "slack") == "*Steps*"


def test_slack_drops_unsafe_links() -> None:
    assert "<javascript" not in render("[go](javascript:alert(1))", "slack")


# channels


def test_unknown_channel_raises_value_error() -> None:
    with pytest.raises(ValueError, match="unknown channel 'sms'"):
        render("Hi", "sms")


def test_shipped_articles_render_as_plain_text_without_markup() -> None:
    texts = {article.id: render(article.body, "text") for article in KnowledgeBase.load(KB_DIR)}
    leaks = [name for name, text in texts.items() if "**" in text or "](" in text or "<" in text]
    assert leaks == []
