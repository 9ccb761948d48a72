"""The /kb routes, driven in-process through a tiny Starlette app."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.exceptions import StarletteDeprecationWarning

from bot.knowledge import KnowledgeBase
from bot.knowledge.views import routes

# starlette asks for the httpx2 fork; plain httpx works the same for in-process tests.
with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", category=StarletteDeprecationWarning, message="Using `httpx` with `starlette.testclient`"
    )
    from starlette.testclient import TestClient


def write_article(directory: Path, article_id: str, front: str, body: str) -> None:
    text = f"---\nid: {article_id}\n{front}---\n{body}\n"
    (directory / f"{article_id}.md").write_text(text, encoding="utf-8")


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    write_article(
        tmp_path,
        "e05",
        'title: "Error E05: User Not Found"\n'
        "keys: {error_codes: [E05], call_failures: [], intents: [report_error]}\n"
        'symptoms: ["User Not Found"]\nrelated: [enroll]\n',
        "You're seeing E05.\n\n1. Wait 60 minutes.\n"
        "2. Go to the [portal](https://tmfamobile.nc.gov/userportal/).",
    )
    write_article(
        tmp_path,
        "enroll",
        'title: "Enroll in MFA"\nkeys: {error_codes: [], call_failures: [], intents: [enroll]}\n'
        "symptoms: [register]\nrelated: []\n",
        "Go to the portal and log in with your NCID.",
    )
    for number in range(25):
        write_article(
            tmp_path,
            f"filler{number:02d}",
            'title: "Portal"\nkeys: {error_codes: [], call_failures: [], intents: []}\n'
            "symptoms: []\nrelated: []\n",
            "portal " * (number + 1),
        )
    app = Starlette(routes=routes(KnowledgeBase.load(tmp_path)))
    with TestClient(app) as test_client:
        yield test_client


def test_search_returns_ranked_results(client: TestClient) -> None:
    response = client.get("/kb/search", params={"q": "I got e-05"})
    assert response.status_code == 200
    assert [result["id"] for result in response.json()["results"]] == ["e05"]


def test_search_echoes_the_query(client: TestClient) -> None:
    assert client.get("/kb/search", params={"q": "user not found"}).json()["query"] == "user not found"


def test_search_result_has_id_title_score_and_snippet(client: TestClient) -> None:
    result = client.get("/kb/search", params={"q": "user not found"}).json()["results"][0]
    assert set(result) == {"id", "title", "score", "snippet"}
    assert result["title"] == "Error E05: User Not Found"


def test_search_score_is_rounded_to_four_places(client: TestClient) -> None:
    score = client.get("/kb/search", params={"q": "user not found"}).json()["results"][0]["score"]
    assert score == round(score, 4) and score > 0


def test_search_snippet_is_plain_text_from_the_article(client: TestClient) -> None:
    result = client.get("/kb/search", params={"q": "e05: go to the portal"}).json()["results"][0]
    assert result["snippet"] == "2. Go to the portal (https://tmfamobile.nc.gov/userportal/)."


def test_search_defaults_to_five_results(client: TestClient) -> None:
    assert len(client.get("/kb/search", params={"q": "portal"}).json()["results"]) == 5


def test_search_honours_limit(client: TestClient) -> None:
    assert len(client.get("/kb/search", params={"q": "portal", "limit": "20"}).json()["results"]) == 20


def test_search_with_no_match_returns_empty_results(client: TestClient) -> None:
    response = client.get("/kb/search", params={"q": "zebra"})
    assert response.status_code == 200 and response.json()["results"] == []


@pytest.mark.parametrize("params", [{}, {"q": ""}, {"q": "   "}])
def test_search_without_query_is_a_bad_request(client: TestClient, params: dict[str, str]) -> None:
    response = client.get("/kb/search", params=params)
    assert response.status_code == 400 and "q" in response.json()["error"]


def test_search_with_an_overlong_query_is_a_bad_request(client: TestClient) -> None:
    assert client.get("/kb/search", params={"q": "x" * 501}).status_code == 400


@pytest.mark.parametrize("limit", ["0", "21", "-1", "abc", "2.5", "", "1e3"])
def test_search_with_bad_limit_is_a_bad_request(client: TestClient, limit: str) -> None:
    response = client.get("/kb/search", params={"q": "portal", "limit": limit})
    assert response.status_code == 400 and "limit" in response.json()["error"]


def test_article_returns_its_fields(client: TestClient) -> None:
    body = client.get("/kb/articles/e05").json()
    fields = ("id", "title", "error_codes", "call_failures", "intents", "related")
    assert {key: body[key] for key in fields} == {
        "id": "e05",
        "title": "Error E05: User Not Found",
        "error_codes": ["E05"],
        "call_failures": [],
        "intents": ["report_error"],
        "related": ["enroll"],
    }


def test_article_returns_markdown_source(client: TestClient) -> None:
    assert client.get("/kb/articles/e05").json()["markdown"].startswith("You're seeing E05.")


def test_article_returns_safe_html(client: TestClient) -> None:
    html = client.get("/kb/articles/e05").json()["html"]
    assert 'href="https://tmfamobile.nc.gov/userportal/" target="_blank" rel="noopener noreferrer"' in html


def test_unknown_article_is_not_found(client: TestClient) -> None:
    response = client.get("/kb/articles/nope")
    assert response.status_code == 404 and "nope" in response.json()["error"]


def test_search_only_answers_get(client: TestClient) -> None:
    assert client.post("/kb/search", params={"q": "portal"}).status_code == 405
