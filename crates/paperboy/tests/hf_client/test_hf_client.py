"""The real `huggingface_hub` client against a running paperboy server.

A Rust integration test starts paperboy with the raw HF daily files below imported and runs
this suite with:

- ``HF_ENDPOINT``: the server's base URL, e.g. ``http://127.0.0.1:PORT``;
- ``PAPERBOY_FIXTURES``: the folder that holds the imported ``YYYY-MM-DD.json.gz`` files
  (defaults to ``../fixtures/import/hf-daily`` next to this file).

Every expectation is computed from those files: each one is a raw response of HF's
``/api/daily_papers?date=…``, ordered by upvotes desc (ties in feed order), which is the order
paperboy must return for ``date=``.
"""

from __future__ import annotations

import ast
import collections
import datetime as dt
import gzip
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import BadRequestError, HfHubHTTPError
from huggingface_hub.utils import get_session

DATES = ["2024-05-27", "2024-12-11", "2025-01-10", "2026-08-20", "2026-08-21"]

# HF's documented default for `limit` on /api/daily_papers.
DEFAULT_LIMIT = 50

# Characters that a markdown renderer may escape or rewrite; papers whose checked text holds one
# are not used for the `read_paper` check.
MARKDOWN_SPECIAL = re.compile(r"[\\`*_{}\[\]<>()#+!|$&~]")


def collapse(text: str) -> str:
    """Whitespace runs to one space, trimmed: what paperboy does to raw HF titles."""
    return " ".join(text.split())


def parse_hf_datetime(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Day:
    date: dt.date
    items: list[dict]

    @property
    def ids(self) -> list[str]:
        return [item["paper"]["id"] for item in self.items]


def fixtures_dir() -> Path:
    configured = os.environ.get("PAPERBOY_FIXTURES")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parent.parent / "fixtures" / "import" / "hf-daily"


def load_day(date: str) -> Day:
    with gzip.open(fixtures_dir() / f"{date}.json.gz", "rt", encoding="utf-8") as f:
        body = json.load(f)
    # 2025-01-10 is wrapped as {status, date, count, data: [...]}.
    if isinstance(body, dict):
        body = body["data"]
    # 2024-12-11 .. 2025-01-09 hold Python repr() strings instead of JSON objects.
    items = [ast.literal_eval(item) if isinstance(item, str) else item for item in body]
    return Day(date=dt.date.fromisoformat(date), items=items)


DAYS = {date: load_day(date) for date in DATES}


def all_items() -> list[dict]:
    return [item for day in DAYS.values() for item in day.items]


def submitter_of(item: dict) -> tuple[str, str] | None:
    """(username, fullname) of who put the paper on the daily feed, if recorded."""
    by = item["paper"].get("submittedOnDailyBy")
    if by and by.get("user"):
        return by["user"], by.get("fullname", "")
    by = item.get("submittedBy")
    if by and by.get("name"):
        return by["name"], by.get("fullname", "")
    return None


def ids_where(keep) -> set[str]:
    return {item["paper"]["id"] for day in DAYS.values() if keep(day.date) for item in day.items}


def largest_day() -> Day:
    return max(DAYS.values(), key=lambda day: len(day.items))


def known_paper() -> dict:
    """A paper that is safe to compare field by field: on one day only, upvoted, no hidden
    authors, and title/abstract start free of markdown-special characters."""
    counts = collections.Counter(item["paper"]["id"] for item in all_items())
    for item in largest_day().items:
        paper = item["paper"]
        checked = collapse(paper["title"]) + collapse(paper["summary"])[:40]
        if (
            counts[paper["id"]] == 1
            and paper.get("upvotes", 0) > 0
            and not any(author.get("hidden") for author in paper["authors"])
            and not MARKDOWN_SPECIAL.search(checked)
        ):
            return paper
    raise AssertionError("no paper in the fixtures fits the paper_info/read_paper checks")


@pytest.fixture(scope="module")
def endpoint() -> str:
    value = os.environ.get("HF_ENDPOINT")
    if not value:
        pytest.fail("HF_ENDPOINT must point at a running paperboy server")
    return value.rstrip("/")


@pytest.fixture(scope="module")
def api(endpoint: str) -> HfApi:
    return HfApi(endpoint=endpoint, token=False)


def listed_ids(api: HfApi, **params) -> list[str]:
    return [paper.id for paper in api.list_daily_papers(**params)]


@pytest.mark.parametrize("date", DATES)
def test_date_returns_the_days_papers_in_file_order(api: HfApi, date: str) -> None:
    day = DAYS[date]
    assert 0 < len(day.items) <= DEFAULT_LIMIT, "fixture must fit in one default page"
    assert listed_ids(api, date=date) == day.ids


def test_limit_and_page_slice_the_date_order(api: HfApi) -> None:
    day = largest_day()
    date = day.date.isoformat()
    assert len(day.ids) >= 6
    assert listed_ids(api, date=date, limit=3, p=0) == day.ids[0:3]
    assert listed_ids(api, date=date, limit=3, p=1) == day.ids[3:6]
    assert listed_ids(api, date=date, limit=3, p=100) == []


def test_week_returns_the_union_of_its_days(api: HfApi) -> None:
    year, week = 2026, 34
    expected = ids_where(lambda d: d.isocalendar()[:2] == (year, week))
    assert expected == set(DAYS["2026-08-20"].ids) | set(DAYS["2026-08-21"].ids)
    got = listed_ids(api, week=f"{year}-W{week:02d}", limit=100)
    assert set(got) == expected
    assert len(got) == len(expected)


@pytest.mark.parametrize("month", ["2026-08", "2024-12"])
def test_month_returns_the_union_of_its_days(api: HfApi, month: str) -> None:
    year, mon = (int(part) for part in month.split("-"))
    expected = ids_where(lambda d: (d.year, d.month) == (year, mon))
    assert expected
    got = listed_ids(api, month=month, limit=100)
    assert set(got) == expected
    assert len(got) == len(expected)


def test_submitter_filters_by_username(api: HfApi) -> None:
    per_user: dict[str, set[str]] = collections.defaultdict(set)
    fullnames: dict[str, str] = {}
    for item in all_items():
        who = submitter_of(item)
        if who:
            per_user[who[0]].add(item["paper"]["id"])
            fullnames[who[0]] = who[1]
    username = max(sorted(per_user), key=lambda user: len(per_user[user]))
    assert len(per_user[username]) >= 2

    papers = list(api.list_daily_papers(submitter=username, limit=100))
    assert {paper.id for paper in papers} == per_user[username]
    for paper in papers:
        assert paper.submitted_by is not None, paper.id
        assert paper.submitted_by.fullname == fullnames[username], paper.id


def test_paper_info_matches_the_fixture(api: HfApi) -> None:
    paper = known_paper()
    info = api.paper_info(paper["id"])
    assert info.id == paper["id"]
    assert info.title == collapse(paper["title"])
    assert info.upvotes == paper["upvotes"]
    assert [author.name for author in info.authors or []] == [a["name"] for a in paper["authors"]]
    assert isinstance(info.published_at, dt.datetime)
    expected = parse_hf_datetime(paper["publishedAt"])
    assert info.published_at.replace(microsecond=0) == expected.replace(microsecond=0)


def test_read_paper_returns_markdown_with_title_and_abstract(api: HfApi) -> None:
    paper = known_paper()
    text = collapse(api.read_paper(paper["id"]))
    assert collapse(paper["title"]) in text
    assert collapse(paper["summary"])[:40] in text


def test_invalid_date_is_bad_request(api: HfApi) -> None:
    with pytest.raises(HfHubHTTPError) as raised:
        list(api.list_daily_papers(date="2025-13-40"))
    assert raised.value.response.status_code == 400
    assert isinstance(raised.value, BadRequestError)


def test_unknown_paper_is_not_found(api: HfApi) -> None:
    with pytest.raises(HfHubHTTPError) as raised:
        api.paper_info("1234.56789")
    assert raised.value.response.status_code == 404


@pytest.mark.parametrize("query", ["limit=1000", "p=-1"])
def test_out_of_range_params_are_bad_request_with_json_error(endpoint: str, query: str) -> None:
    # Raw GET through the client's own HTTP session: the client may validate these itself.
    response = get_session().get(f"{endpoint}/api/daily_papers?{query}")
    assert response.status_code == 400
    body = response.json()
    assert isinstance(body, dict)
    assert isinstance(body.get("error"), str) and body["error"]


def test_list_papers_searches_titles_and_returns_papers(api: HfApi) -> None:
    paper = known_paper()
    title = collapse(paper["title"])
    papers = list(api.list_papers(query=title, limit=5))
    assert 1 <= len(papers) <= 5
    assert papers[0].id == paper["id"]
    assert papers[0].title == title
    assert len(list(api.list_papers(query="language models", limit=2))) == 2


def test_list_papers_query_over_250_characters_is_bad_request(api: HfApi) -> None:
    with pytest.raises(HfHubHTTPError) as raised:
        list(api.list_papers(query="x" * 251))
    assert raised.value.response.status_code == 400
