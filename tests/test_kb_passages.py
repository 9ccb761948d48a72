"""KB passages: splitting, sections, topic-first ranking and negation, on small articles."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.knowledge import Article, KnowledgeBase
from bot.knowledge.passages import plain, split_passages

BODY = """Intro paragraph about codes.

**Is it new?**

1. Wait 60 minutes.
2. Go to the portal.

**Had it for a while?**

Follow the steps on the portal."""


def article(article_id: str, body: str, related: tuple[str, ...] = ()) -> Article:
    return Article(article_id, article_id.title(), (), (), (), ("x", "y", "z"), related, body)


def test_list_items_and_paragraphs_are_passages_under_their_heading() -> None:
    passages = split_passages(article_id="a", title="A", body=BODY)
    assert [(p.index, p.heading, plain(p.text)) for p in passages] == [
        (0, "A", "Intro paragraph about codes."),
        (1, "Is it new?", "Wait 60 minutes."),
        (2, "Is it new?", "Go to the portal."),
        (3, "Had it for a while?", "Follow the steps on the portal."),
    ]


def test_a_short_section_is_answered_whole() -> None:
    kb = KnowledgeBase([article("a", BODY)])
    first = kb.get("a").passages[1]
    assert [p.index for p in kb.section(first)] == [1, 2]
    assert [p.index for p in kb.section(first, max_words=3)] == [1]


def test_the_topic_article_outranks_an_equal_passage_elsewhere() -> None:
    kb = KnowledgeBase([article("a", "Press the pound key."), article("b", "Press the pound key.")])
    assert kb.passages("pound key", topics=["b"])[0].passage.article_id == "b"
    assert kb.passages("pound key", topics=["a"])[0].passage.article_id == "a"


def test_a_negated_word_is_not_searched_for() -> None:
    kb = KnowledgeBase([article("a", "**Is it new?**\n\nnew new new"), article("b", "**Had it long?**\n\nlong")])
    assert kb.passages("not new, had it long")[0].passage.article_id == "b"


def test_the_passage_after_one_follows_the_article_order() -> None:
    kb = KnowledgeBase([article("a", BODY)])
    following = kb.passage_after("a", 1)
    assert following is not None and plain(following.text) == "Go to the portal."
    assert kb.passage_after("a", 3) is None


@pytest.mark.parametrize(("question", "topic", "expected"), [
    ("how many minutes before I can register", "e05", "60 minutes"),
    ("what is the back-up number for", "phone_method_questions", "secondary"),
    ("which account type do I choose", "enroll_app", "Work or school"),
])
def test_shipped_follow_ups_find_the_passage_with_the_fact(question: str, topic: str, expected: str) -> None:
    kb = KnowledgeBase.load(Path(__file__).resolve().parents[1] / "kb")
    best = kb.passages(question, topics=[topic])[0]
    assert expected in " ".join(p.text for p in kb.section(best.passage))
