"""Every fact the bot can say (kb/ articles, data/ YAML) must agree with the MFA job aid.

The seed is shared/seed/nctracks-mfa-job-aid.txt beside the repository. A copy lives in
docs/seed/ so a checkout alone (CI) can run these checks; when the original is present the copy
must be identical to it. HELPDESK_SEED_PATH overrides both. Rasa NLU training examples (a top-level ``nlu:`` key) are what users type, not
what the bot says, so they are left out of the checks.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.knowledge import KnowledgeBase

ROOT = Path(__file__).resolve().parents[1]
SHARED_SEED = ROOT.parent / "shared/seed/nctracks-mfa-job-aid.txt"
SEED_COPY = ROOT / "docs/seed/nctracks-mfa-job-aid.txt"
PORTAL = "https://tmfamobile.nc.gov/userportal/"
ERROR_CODES = ("E05", "E06")
CALL_FAILURES = ("hash_not_pressed", "no_input_timeout", "call_disconnected", "no_call_received")

URL = re.compile(r"https?://[^\s<>()\[\]\"'`\\*|]+")
PHONE = re.compile(r"(?<!\d)(?:\(\d{3}\)\s?|\d{3}[-. ])\d{3}[-. ]\d{4}(?!\d)")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
NUMBER_WORDS = {"five": 5, "ten": 10, "fifteen": 15, "twenty": 20, "thirty": 30, "sixty": 60}
MINUTES = re.compile(rf"\b(\d+|{'|'.join(NUMBER_WORDS)})(?:\s*-\s*|\s+)?(?:minutes?|mins?)\b", re.I)
CLOCK = re.compile(r"\b(\d{1,2})(?::(\d{2}))?\s*([ap])\.?\s?m\b\.?", re.I)
ERROR_CODE_TEXT = re.compile(r"Error Code#?\s*(E\d{2})\s*:\s*")
QUOTED = re.compile(r"\"([^\"\n]+)\"|“([^”\n]+)”")
# The seed's wording of each call error, and a loose pattern that catches misquotes of it.
CALL_ERRORS = {
    "hash_not_pressed": (
        "# Not pressed After Entry",
        re.compile(r"(?:#[ \t]*)?not\s+pressed\s+after\s+entry", re.I),
    ),
    "no_input_timeout": (
        "No Phone Input – Timed Out",
        re.compile(r"no\s+phone\s+input\s*[-–—‐:]*\s*timed?\s*out", re.I),
    ),
    "call_disconnected": ("Call Disconnected", None),  # "the call disconnected" is fine prose
}
RESOLUTION_STEPS = (
    "Return to the NCTracks login page",
    "Re-enter your NCID and password",
    "new confirmation call",
    'Press the "#" key',
)


# Extractors pull normalised facts out of a text; offenders() lists those the seed lacks.


def urls(text: str) -> list[str]:
    return [url.rstrip(".,;:!?)]}>'\"").rstrip("/") for url in URL.findall(text)]


def phone_numbers(text: str) -> list[str]:
    return [re.sub(r"\D", "", number) for number in PHONE.findall(text)]


def emails(text: str) -> list[str]:
    return [email.lower() for email in EMAIL.findall(text)]


def minute_figures(text: str) -> list[int]:
    return [int(n) if n.isdigit() else NUMBER_WORDS[n.lower()] for n in MINUTES.findall(text)]


def clock_times(text: str) -> list[tuple[int, int, str]]:
    return [(int(hour), int(minute or 0), half.lower()) for hour, minute, half in CLOCK.findall(text)]


def offenders(sources: dict[str, str], extract: Callable[[str], list[Any]], seed: str) -> list[str]:
    allowed = set(extract(seed))
    return [
        f"{name}: {item}" for name, text in sources.items() for item in extract(text) if item not in allowed
    ]


def seed_error_messages(seed: str) -> dict[str, str]:
    return dict(re.findall(r"Error Code# (E\d{2}): ([^\n]+?)\s*$", seed, re.M))


def wrong_error_code_messages(sources: dict[str, str], seed: str) -> list[str]:
    expected = seed_error_messages(seed)
    return [
        f"{name}: {text[match.start() : match.end() + 30]!r}"
        for name, text in sources.items()
        for match in ERROR_CODE_TEXT.finditer(text)
        if not text[match.end() :].startswith(expected.get(match.group(1), "\0"))
    ]


def misquoted_call_errors(sources: dict[str, str]) -> list[str]:
    return [
        f"{name}: {found.group(0)!r}"
        for exact, loose in CALL_ERRORS.values()
        if loose is not None
        for name, text in sources.items()
        for found in loose.finditer(text)
        if found.group(0) != exact
    ]


def quotes_not_in_seed(sources: dict[str, str], seed: str) -> list[str]:
    quotes = [(name, a or b) for name, text in sources.items() for a, b in QUOTED.findall(text)]
    return [f"{name}: {quote!r}" for name, quote in quotes if quote not in seed]


# Fixtures.


@pytest.fixture(scope="module")
def seed() -> str:
    path = Path(os.environ.get("HELPDESK_SEED_PATH") or (SHARED_SEED if SHARED_SEED.is_file() else SEED_COPY))
    if not path.is_file():
        pytest.fail(f"MFA job aid seed not found at {path}; set HELPDESK_SEED_PATH to its location")
    return path.read_text(encoding="utf-8")


def test_the_seed_copy_matches_the_original() -> None:
    if not SHARED_SEED.is_file():
        pytest.skip(f"the original seed is not beside this checkout ({SHARED_SEED})")
    assert SEED_COPY.read_bytes() == SHARED_SEED.read_bytes(), "refresh docs/seed/ from shared/seed/"


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return KnowledgeBase.load(ROOT / "kb")


@pytest.fixture(scope="module")
def sources() -> dict[str, str]:
    """What can reach a user: whole kb article files, and the strings of every data YAML file."""
    articles = sorted((ROOT / "kb").rglob("*.md"))
    texts = {str(path.relative_to(ROOT)): path.read_text(encoding="utf-8") for path in articles}
    for path in sorted([*(ROOT / "data").rglob("*.yml"), *(ROOT / "data").rglob("*.yaml")]):
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            pytest.fail(f"{path} is not valid YAML: {exc}")
        if isinstance(document, dict):
            document = {key: value for key, value in document.items() if key != "nlu"}
        texts[str(path.relative_to(ROOT))] = "\n".join(_strings(document))
    return texts


@pytest.fixture(scope="module")
def bot_wording(sources: dict[str, str], kb: KnowledgeBase) -> dict[str, str]:
    """Like ``sources`` but kb articles by body only: symptoms hold what users type."""
    return {name: text for name, text in sources.items() if not name.startswith("kb")} | {
        f"kb/{article.id}": article.body for article in kb
    }


def _strings(node: object) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


# 1. Every error code and call failure has an article that quotes and resolves it as the seed does.


@pytest.mark.parametrize("code", ERROR_CODES)
def test_every_error_code_has_an_article(kb: KnowledgeBase, code: str) -> None:
    assert kb.for_error_code(code) is not None


@pytest.mark.parametrize("failure", CALL_FAILURES)
def test_every_call_failure_has_an_article(kb: KnowledgeBase, failure: str) -> None:
    assert kb.for_call_failure(failure) is not None


@pytest.mark.parametrize("code", ERROR_CODES)
def test_error_code_article_quotes_the_seed_message(kb: KnowledgeBase, seed: str, code: str) -> None:
    article = kb.for_error_code(code)
    assert article is not None and f"Error Code# {code}: {seed_error_messages(seed)[code]}" in article.body


@pytest.mark.parametrize("failure", list(CALL_ERRORS))
def test_call_failure_article_quotes_the_seed_message(kb: KnowledgeBase, seed: str, failure: str) -> None:
    article = kb.for_call_failure(failure)
    text = CALL_ERRORS[failure][0]
    assert text in seed and article is not None and f'"{text}"' in article.body


@pytest.mark.parametrize("failure", list(CALL_ERRORS))
def test_call_failure_article_gives_the_seed_resolution(kb: KnowledgeBase, failure: str) -> None:
    article = kb.for_call_failure(failure)
    assert article is not None
    body = " ".join(article.body.split())
    assert [step for step in RESOLUTION_STEPS if step not in body] == []


@pytest.mark.parametrize(
    "article_id",
    ["e05", "e06", "no_call_received", "enroll_overview", "enroll_phone", "enroll_app", "activation_code"],
)
def test_portal_articles_link_the_state_mfa_portal(kb: KnowledgeBase, seed: str, article_id: str) -> None:
    assert PORTAL in seed and f"]({PORTAL})" in kb.get(article_id).body


# 2. Facts in kb/**/*.md and data/**/*.yml agree with the seed.


def test_seed_holds_the_expected_reference_facts(seed: str) -> None:
    assert seed_error_messages(seed) == {"E05": "User Not Found", "E06": "User Not Registered/Enabled"}
    assert set(minute_figures(seed)) == {10, 60}
    assert set(clock_times(seed)) == {(8, 0, "a"), (5, 0, "p"), (7, 0, "a"), (11, 0, "p"), (6, 0, "p")}


def test_sources_cover_every_kb_article(sources: dict[str, str], kb: KnowledgeBase) -> None:
    assert sum(name.startswith("kb") for name in sources) == len(kb)


def test_urls_appear_in_the_seed(sources: dict[str, str], seed: str) -> None:
    assert offenders(sources, urls, seed) == []


def test_phone_numbers_appear_in_the_seed(sources: dict[str, str], seed: str) -> None:
    assert offenders(sources, phone_numbers, seed) == []


def test_email_addresses_appear_in_the_seed(sources: dict[str, str], seed: str) -> None:
    assert offenders(sources, emails, seed) == []


def test_minute_figures_are_ones_the_seed_uses(sources: dict[str, str], seed: str) -> None:
    assert offenders(sources, minute_figures, seed) == []


def test_clock_times_appear_in_the_seed(sources: dict[str, str], seed: str) -> None:
    assert offenders(sources, clock_times, seed) == []


def test_error_code_messages_match_the_seed(sources: dict[str, str], seed: str) -> None:
    assert wrong_error_code_messages(sources, seed) == []


def test_call_error_messages_are_quoted_exactly(bot_wording: dict[str, str]) -> None:
    assert misquoted_call_errors(bot_wording) == []


def test_quoted_text_in_articles_is_verbatim_from_the_seed(bot_wording: dict[str, str], seed: str) -> None:
    # In articles, quotation marks are kept for wording users see on screen, so it must match.
    articles = {name: text for name, text in bot_wording.items() if name.startswith("kb/")}
    assert quotes_not_in_seed(articles, seed) == []


# 3. The checks themselves catch what they are for.


def test_url_check_catches_an_unknown_url(seed: str) -> None:
    found = offenders({"x": "Go to https://tmfamobile.nc.gov/portal now."}, urls, seed)
    assert found == ["x: https://tmfamobile.nc.gov/portal"]


def test_url_check_ignores_trailing_slash_and_punctuation(seed: str) -> None:
    text = "(https://tmfamobile.nc.gov/userportal). <https://tmfamobile.nc.gov/userportal/>"
    assert offenders({"x": text}, urls, seed) == []


def test_phone_check_catches_an_unknown_number(seed: str) -> None:
    assert offenders({"x": "call 1-800-688-6969"}, phone_numbers, seed) == ["x: 8006886969"]


def test_phone_check_accepts_a_seed_number_with_country_code(seed: str) -> None:
    assert offenders({"x": "call 1-800-688-6696 or fax 855.710.1965"}, phone_numbers, seed) == []


def test_email_check_catches_an_unknown_address(seed: str) -> None:
    assert offenders({"x": "mail help@nctracks.com"}, emails, seed) == ["x: help@nctracks.com"]


@pytest.mark.parametrize("text", ["wait 30 minutes", "a 15-minute code", "ten minute wait? no, five mins"])
def test_minute_check_catches_other_figures(seed: str, text: str) -> None:
    assert offenders({"x": text}, minute_figures, seed) != []


@pytest.mark.parametrize("text", ["wait 60 minutes", "a 10-minute code", "ten minutes"])
def test_minute_check_accepts_seed_figures(seed: str, text: str) -> None:
    assert offenders({"x": text}, minute_figures, seed) == []


@pytest.mark.parametrize("text", ["open 9:00 a.m.", "until 4 PM", "7:30 AM"])
def test_clock_check_catches_other_times(seed: str, text: str) -> None:
    assert offenders({"x": text}, clock_times, seed) != []


def test_clock_check_accepts_seed_times_in_either_style(seed: str) -> None:
    assert offenders({"x": "8:00 AM to 5:00 p.m., 7 a.m. to 11:00 PM"}, clock_times, seed) == []


@pytest.mark.parametrize(
    "text", ["Error Code# E05: User not found", "Error Code# E06: User Not Registered", "Error Code# E07: X"]
)
def test_error_code_check_catches_misquotes(seed: str, text: str) -> None:
    assert wrong_error_code_messages({"x": text}, seed) != []


@pytest.mark.parametrize(
    "text", ["No Phone Input - Timed Out", "no phone input – timed out", "Not pressed After Entry"]
)
def test_call_error_check_catches_misquotes(text: str) -> None:
    assert misquoted_call_errors({"x": text}) != []


def test_quote_check_catches_wording_not_in_the_seed(seed: str) -> None:
    assert quotes_not_in_seed({"x": 'Select "Call Me Later".'}, seed) == ["x: 'Call Me Later'"]
