"""KnowledgeBase.load: front-matter validation, lookups, and the shipped kb/ directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import ConfigError, NotFound
from bot.knowledge import Article, KnowledgeBase, render

KB_DIR = Path(__file__).resolve().parents[1] / "kb"
# The intent and call-failure names fixed by the design's contract (shared/DESIGN.md).
CONTRACT_INTENTS = frozenset(
    "greet goodbye thank affirm deny bot_challenge what_is_mfa enroll enroll_phone enroll_app "
    "report_error call_problem new_activation_code test_call change_phone security_questions "
    "login_help contact_support call_center_info ticket_status out_of_scope".split()
)
CALL_FAILURES = frozenset({"hash_not_pressed", "no_input_timeout", "call_disconnected", "no_call_received"})


def write_article(
    directory: Path,
    article_id: str,
    *,
    title: str = "A title",
    error_codes: str = "[]",
    call_failures: str = "[]",
    intents: str = "[]",
    symptoms: str = "[]",
    related: str = "[]",
    body: str = "Some body text.",
    extra: str = "",
) -> Path:
    path = directory / f"{article_id}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"---\nid: {article_id}\ntitle: \"{title}\"\nkeys:\n  error_codes: {error_codes}\n"
        f"  call_failures: {call_failures}\n  intents: {intents}\nsymptoms: {symptoms}\n"
        f"related: {related}\n{extra}---\n{body}\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def kb(tmp_path: Path) -> KnowledgeBase:
    write_article(tmp_path, "e05", title="Error E05", error_codes="[E05]", intents="[report_error]",
                  symptoms='["User Not Found"]', related="[enroll]", body="Register on the portal.")
    write_article(tmp_path, "hash", title="Hash", call_failures="[hash_not_pressed]",
                  intents="[call_problem, report_error]", body="Press the # key.")
    write_article(tmp_path, "enroll", title="Enroll", intents="[enroll]", body="Enroll steps.")
    return KnowledgeBase.load(tmp_path)


def test_load_reads_every_markdown_file(kb: KnowledgeBase) -> None:
    assert sorted(article.id for article in kb) == ["e05", "enroll", "hash"]


def test_len_counts_articles(kb: KnowledgeBase) -> None:
    assert len(kb) == 3


def test_front_matter_becomes_article_fields(kb: KnowledgeBase) -> None:
    assert kb.get("e05") == Article(
        id="e05",
        title="Error E05",
        error_codes=("E05",),
        call_failures=(),
        intents=("report_error",),
        symptoms=("User Not Found",),
        related=("enroll",),
        body="Register on the portal.",
    )


def test_body_excludes_front_matter(kb: KnowledgeBase) -> None:
    assert "---" not in kb.get("hash").body


def test_get_unknown_id_raises_not_found(kb: KnowledgeBase) -> None:
    with pytest.raises(NotFound, match="nope"):
        kb.get("nope")


def test_for_error_code_ignores_case_and_spaces(kb: KnowledgeBase) -> None:
    assert kb.for_error_code(" e05 ") is kb.get("e05")


def test_for_error_code_unknown_returns_none(kb: KnowledgeBase) -> None:
    assert kb.for_error_code("E99") is None


def test_for_call_failure_finds_article(kb: KnowledgeBase) -> None:
    assert kb.for_call_failure("hash_not_pressed") is kb.get("hash")


def test_for_call_failure_unknown_returns_none(kb: KnowledgeBase) -> None:
    assert kb.for_call_failure("no_call_received") is None


def test_for_intent_returns_every_matching_article(kb: KnowledgeBase) -> None:
    assert [article.id for article in kb.for_intent("report_error")] == ["e05", "hash"]


def test_for_intent_unknown_returns_empty_list(kb: KnowledgeBase) -> None:
    assert kb.for_intent("greet") == []


def test_search_delegates_to_bm25(kb: KnowledgeBase) -> None:
    assert [hit.article.id for hit in kb.search("user not found")][:1] == ["e05"]


def test_articles_in_subfolders_are_loaded(tmp_path: Path) -> None:
    write_article(tmp_path / "errors", "e06", error_codes="[E06]")
    assert KnowledgeBase.load(tmp_path).for_error_code("E06") is not None


def test_missing_directory_raises_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        KnowledgeBase.load(tmp_path / "absent")


def test_directory_without_articles_raises_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no \\*.md"):
        KnowledgeBase.load(tmp_path)


def test_missing_front_matter_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "plain.md").write_text("Just text.\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="plain.md: missing YAML front matter"):
        KnowledgeBase.load(tmp_path)


def test_invalid_yaml_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "broken.md").write_text("---\nid: [unclosed\n---\nBody\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="broken.md: front matter is not valid YAML"):
        KnowledgeBase.load(tmp_path)


def test_front_matter_that_is_not_a_mapping_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "list.md").write_text("---\n- a\n---\nBody\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="list.md: front matter must be a mapping"):
        KnowledgeBase.load(tmp_path)


@pytest.mark.parametrize("field", ["title", "symptoms", "related"])
def test_missing_required_field_names_file_and_field(tmp_path: Path, field: str) -> None:
    path = write_article(tmp_path, "a")
    lines = [line for line in path.read_text().splitlines() if not line.startswith(f"{field}:")]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=f"a.md: '{field}'"):
        KnowledgeBase.load(tmp_path)


def test_missing_keys_mapping_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(
        "---\nid: a\ntitle: T\nsymptoms: []\nrelated: []\n---\nBody\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="a.md: 'keys' must be a mapping"):
        KnowledgeBase.load(tmp_path)


def test_missing_list_under_keys_is_rejected(tmp_path: Path) -> None:
    path = write_article(tmp_path, "a")
    path.write_text(path.read_text().replace("  intents: []\n", ""), encoding="utf-8")
    with pytest.raises(ConfigError, match="a.md: 'intents' is missing"):
        KnowledgeBase.load(tmp_path)


def test_unknown_field_is_rejected(tmp_path: Path) -> None:
    write_article(tmp_path, "a", extra="tags: [x]\n")
    with pytest.raises(ConfigError, match="a.md: unknown front matter field.*tags"):
        KnowledgeBase.load(tmp_path)


def test_non_list_symptoms_are_rejected(tmp_path: Path) -> None:
    write_article(tmp_path, "a", symptoms='"just one"')
    with pytest.raises(ConfigError, match="a.md: 'symptoms' must be a list"):
        KnowledgeBase.load(tmp_path)


def test_id_must_match_file_name(tmp_path: Path) -> None:
    path = write_article(tmp_path, "a")
    path.rename(tmp_path / "b.md")
    with pytest.raises(ConfigError, match="b.md: id 'a' must equal the file name stem 'b'"):
        KnowledgeBase.load(tmp_path)


def test_malformed_error_code_is_rejected(tmp_path: Path) -> None:
    write_article(tmp_path, "a", error_codes="[e5]")
    with pytest.raises(ConfigError, match="a.md: 'error_codes' has malformed value"):
        KnowledgeBase.load(tmp_path)


def test_empty_body_is_rejected(tmp_path: Path) -> None:
    write_article(tmp_path, "a", body="   ")
    with pytest.raises(ConfigError, match="a.md: article body is empty"):
        KnowledgeBase.load(tmp_path)


def test_duplicate_ids_name_both_files(tmp_path: Path) -> None:
    write_article(tmp_path / "one", "a")
    write_article(tmp_path / "two", "a")
    with pytest.raises(ConfigError, match=r"two/a.md: id value 'a' is already claimed by .*one/a.md"):
        KnowledgeBase.load(tmp_path)


def test_error_code_claimed_twice_is_rejected(tmp_path: Path) -> None:
    write_article(tmp_path, "a", error_codes="[E05]")
    write_article(tmp_path, "b", error_codes="[E05]")
    with pytest.raises(ConfigError, match="b.md: error_codes value 'E05' is already claimed"):
        KnowledgeBase.load(tmp_path)


def test_related_id_that_does_not_exist_is_rejected(tmp_path: Path) -> None:
    write_article(tmp_path, "a", related="[ghost]")
    with pytest.raises(ConfigError, match=r"a.md: related article\(s\) \['ghost'\] do not exist"):
        KnowledgeBase.load(tmp_path)


def test_article_related_to_itself_is_rejected(tmp_path: Path) -> None:
    write_article(tmp_path, "a", related="[a]")
    with pytest.raises(ConfigError, match="a.md: an article cannot be related to itself"):
        KnowledgeBase.load(tmp_path)


def test_constructor_rejects_duplicate_ids() -> None:
    article = Article("a", "T", (), (), (), (), (), "Body")
    with pytest.raises(ConfigError, match="duplicate article ids: \\['a'\\]"):
        KnowledgeBase([article, article])


# The shipped articles in kb/.


@pytest.fixture(scope="module")
def shipped() -> KnowledgeBase:
    return KnowledgeBase.load(KB_DIR)


REQUIRED_IDS = (
    "e05 e06 hash_not_pressed no_input_timeout call_disconnected no_call_received enroll_overview "
    "enroll_phone enroll_app activation_code security_questions login_process what_is_mfa "
    "call_center contact_center_hours contact_us_form welcome_message delegated_administrator"
).split()


@pytest.mark.parametrize("article_id", REQUIRED_IDS)
def test_shipped_kb_has_required_article(shipped: KnowledgeBase, article_id: str) -> None:
    assert shipped.get(article_id).id == article_id


def test_shipped_intents_are_contract_intents(shipped: KnowledgeBase) -> None:
    used = {intent for article in shipped for intent in article.intents}
    assert used <= CONTRACT_INTENTS, sorted(used - CONTRACT_INTENTS)


def test_shipped_call_failures_are_canonical(shipped: KnowledgeBase) -> None:
    used = {failure for article in shipped for failure in article.call_failures}
    assert used <= CALL_FAILURES, sorted(used - CALL_FAILURES)


def test_shipped_articles_have_symptoms_for_search(shipped: KnowledgeBase) -> None:
    assert [article.id for article in shipped if len(article.symptoms) < 3] == []


def test_shipped_articles_fit_a_chat_bubble(shipped: KnowledgeBase) -> None:
    counts = {article.id: len(render(article.body, "text").split()) for article in shipped}
    assert {key: n for key, n in counts.items() if not 60 <= n <= 180} == {}
