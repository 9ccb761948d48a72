"""Tokenisation and BM25 ranking, on tiny hand-made corpora and on the shipped kb/."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bot.knowledge import Article, KnowledgeBase
from bot.knowledge.articles import TITLE_WEIGHT, SYMPTOM_WEIGHT, BODY_WEIGHT, snippet
from bot.knowledge.search import Bm25Index, Document, tokenize

KB_DIR = Path(__file__).resolve().parents[1] / "kb"


def article(article_id: str, *, title: str = "", symptoms: tuple[str, ...] = (), body: str = "") -> Article:
    return Article(article_id, title or article_id, (), (), (), symptoms, (), body or "text")


def doc(key: str, *, title: str = "", symptoms: tuple[str, ...] = (), body: str = "") -> Document:
    return Document(key=key, fields=((TITLE_WEIGHT, title or key), *((SYMPTOM_WEIGHT, s) for s in symptoms),
                                     (BODY_WEIGHT, body or "text")))


def test_tokenize_lowercases_and_strips_punctuation() -> None:
    assert tokenize("Phone, CALL!  Portal?") == ["phone", "call", "portal"]


def test_tokenize_drops_stop_words() -> None:
    assert tokenize("the call to my phone") == ["call", "phone"]


@pytest.mark.parametrize(
    "text",
    ["E05", "e05", "e-05", "E 05", "E–05", "eo5", "EO5", "e5", "error code# E05", "Error Code#E05:",
     "error code 05", "code #5", "error e05"],
)
def test_tokenize_folds_error_code_variants(text: str) -> None:
    assert tokenize(text) == ["e05"]


def test_tokenize_keeps_surrounding_words_of_an_error_code() -> None:
    assert tokenize("I got e-06 today") == ["e06", "today"]


def test_tokenize_leaves_activation_code_durations_alone() -> None:
    assert tokenize("activation code 10 minutes") == ["activ", "code", "10", "minut"]


def test_tokenize_folds_simple_suffixes() -> None:
    assert tokenize("pressed presses expired expires calls") == tokenize("press press expire expire call")


def test_empty_query_returns_nothing() -> None:
    assert Bm25Index([doc("a")]).search("") == []


def test_whitespace_query_returns_nothing() -> None:
    assert Bm25Index([doc("a")]).search("  \t\n ") == []


def test_stop_word_only_query_returns_nothing() -> None:
    assert Bm25Index([doc("a", body="the and of")]).search("the and of") == []


def test_articles_without_query_terms_are_left_out() -> None:
    index = Bm25Index([doc("a", body="portal"), doc("b", body="phone")])
    assert [hit.key for hit in index.search("portal")] == ["a"]


def test_score_follows_lucene_bm25_with_k1_1_5_and_b_0_75() -> None:
    # Weighted lengths: "zeta" x3 + "alpha" = 4; "omega" x3 + "beta gamma" = 5; average 4.5.
    # Lucene's BM25 (bm25s method="lucene") leaves out the constant (k1 + 1) factor.
    index = Bm25Index(
        [doc("a", title="zeta", body="alpha"), doc("b", title="omega", body="beta gamma")]
    )
    idf = math.log(1 + (2 - 1 + 0.5) / (1 + 0.5))
    expected = idf * 1 / (1 + 1.5 * (1 - 0.75 + 0.75 * 4 / 4.5))
    assert index.search("alpha")[0].score == pytest.approx(expected)


def test_hits_are_sorted_by_score_descending() -> None:
    index = Bm25Index([doc("a", body="fax"), doc("b", body="fax fax fax"), doc("c", body="call")])
    scores = [hit.score for hit in index.search("fax call")]
    assert scores == sorted(scores, reverse=True)


def test_equal_scores_are_ordered_by_id() -> None:
    index = Bm25Index([doc("b", title="t", body="fax"), doc("a", title="t", body="fax")])
    assert [hit.key for hit in index.search("fax")] == ["a", "b"]


def test_limit_caps_the_number_of_hits() -> None:
    index = Bm25Index([doc(name, body="fax") for name in "abcdef"])
    assert len(index.search("fax", limit=2)) == 2


def test_limit_below_one_is_rejected() -> None:
    with pytest.raises(ValueError, match="limit"):
        Bm25Index([doc("a")]).search("fax", limit=0)


def test_title_match_outranks_body_match() -> None:
    index = Bm25Index(
        [doc("body", title="other", body="fax words"), doc("title", title="fax", body="other words")]
    )
    assert index.search("fax")[0].key == "title"


def test_symptom_match_outranks_body_match() -> None:
    index = Bm25Index([
        doc("body", title="x", body="fax words"),
        doc("symptom", title="x", symptoms=("fax",), body="other words"),
    ])
    assert index.search("fax")[0].key == "symptom"


def test_rare_terms_weigh_more_than_common_ones() -> None:
    corpus = [doc("a", body="call fax"), doc("b", body="call pound"), doc("c", body="call")]
    index = Bm25Index(corpus)
    assert index.search("call fax")[0].key == "a"


def test_snippet_picks_the_line_sharing_most_query_words() -> None:
    found = article("a", body="First line here.\n\n1. Press the pound key.\n2. Wait.")
    assert snippet(found, "pound key") == "1. Press the pound key."


def test_snippet_is_shortened_to_width() -> None:
    found = article("a", body="word " * 100)
    text = snippet(found, "word", width=40)
    assert len(text) <= 40 and text.endswith("…")


# Ranking on the shipped articles: the first hit must be the article a user needs.


@pytest.fixture(scope="module")
def shipped() -> KnowledgeBase:
    return KnowledgeBase.load(KB_DIR)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("I got e-05", "e05"),
        ("error code# E05", "e05"),
        ("User Not Found", "e05"),
        ("User Not Registered/Enabled", "e06"),
        ("eo6", "e06"),
        ("pressed 1 instead of pound", "hash_not_pressed"),
        ("# Not pressed After Entry", "hash_not_pressed"),
        ("No Phone Input - Timed Out", "no_input_timeout"),
        ("the call hung up", "call_disconnected"),
        ("phone never rang", "no_call_received"),
        ("activation code expired", "activation_code"),
        ("how do I set up the authenticator app", "enroll_app"),
        ("how many security questions", "security_questions"),
        ("what are your hours", "call_center"),
        ("fax number", "call_center"),
        ("are you open on weekends", "contact_center_hours"),
        ("where is my tracking number", "contact_us_questions"),
        ("what is mfa", "what_is_mfa"),
        ("Delegated Administrator", "delegated_administrator"),
        ("change my phone number", "change_phone"),
        ("it says Welcome, what now", "welcome_message"),
    ],
)
def test_shipped_kb_ranks_the_right_article_first(shipped: KnowledgeBase, query: str, expected: str) -> None:
    assert [hit.article.id for hit in shipped.search(query, limit=3)][0] == expected
