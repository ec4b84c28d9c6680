"""The staff dossier list past its first pages (issue 13 item 4): by keyset.

The admin's "older" links carry the last id shown, and the API's cursors the last
position: a page at any depth is an index seek. Walking all pages that way must give
every dossier exactly once, in the order of the numbered (OFFSET) pages, with filters
and search applied.
"""

import html
import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from rest_framework.test import APIClient

from procedures.core.constants import DossierStatus as S
from procedures.dossiers.admin.paginator import DossierPaginator
from procedures.dossiers.admin.workspace import DossierAdmin
from procedures.dossiers.api import dossier_list

from .conftest import at
from .test_admin_dossiers import changelist_url
from .test_admin_dossiers import clock as clock_fixture
from .test_admin_dossiers import make_dossier as make_dossier_fixture

clock = clock_fixture
make_dossier = make_dossier_fixture

pytestmark = pytest.mark.django_db

PER_PAGE = 3
CODE = re.compile(r"(?:DK-)?H56\.16-\d{6}-\d{4}")
OLDER = re.compile(r'<a href="(\?[^"]*)" class="keyset-older">')


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(DossierAdmin, "list_per_page", PER_PAGE)
    monkeypatch.setattr(DossierPaginator, "offset_pages", 2)


@pytest.fixture
def listed(make_dossier, small_pages):
    """Ten dossiers, mixed statuses: four pages of three."""
    statuses = [S.SUBMITTED, S.PROCESSING, S.FINISHED, S.SUBMITTED, S.PROCESSING] * 2
    return [make_dossier(status) for status in statuses]


def codes(response) -> list[str]:
    return list(dict.fromkeys(CODE.findall(response.content.decode())))


def walk_by_offset(client, params: dict) -> list[str]:
    seen, page = [], 1
    while True:
        response = client.get(changelist_url(**params, p=page))
        assert response.status_code == 200
        found = codes(response)
        if not found:
            return seen
        seen += found
        if len(found) < PER_PAGE:
            return seen
        page += 1


def walk_by_keyset(client, params: dict) -> list[str]:
    base = changelist_url(**params)
    response = client.get(base)
    seen = codes(response)
    while (older := OLDER.search(response.content.decode())) is not None:
        response = client.get(changelist_url() + html.unescape(older.group(1)))
        assert response.status_code == 200
        seen += codes(response)
    return seen


@pytest.mark.parametrize(
    "params",
    [{}, {"status": S.PROCESSING}, {"q": "Nguyễn"}, {"status": S.SUBMITTED, "q": "Văn"}],
    ids=["all", "filtered", "searched", "both"],
)
def test_keyset_pages_list_every_dossier_once_in_the_offset_order(client, staff, listed, params):
    client.force_login(staff["director"])
    by_offset = walk_by_offset(client, params)
    by_keyset = walk_by_keyset(client, params)
    assert by_keyset == by_offset
    assert len(set(by_keyset)) == len(by_keyset)
    if not params:
        assert by_keyset == [d.code for d in sorted(listed, key=lambda d: -d.pk)]
    elif params == {"status": S.PROCESSING}:
        assert set(by_keyset) == {d.code for d in listed if d.status == S.PROCESSING}


def test_a_deep_page_is_an_id_seek_with_the_filters_kept(client, staff, listed):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(staff["director"])
    first = client.get(changelist_url(status=S.PROCESSING))
    link = html.unescape(OLDER.search(first.content.decode()).group(1))
    assert "status=" in link and "after=" in link and "p=" not in link
    with CaptureQueriesContext(connection) as ctx:
        page = client.get(changelist_url() + link)
    rows = [q["sql"] for q in ctx.captured_queries if "applicant_name" in q["sql"]]
    assert rows and all("OFFSET" not in sql.upper() for sql in rows)
    assert any('"procedures_dossier"."id" <' in sql for sql in rows)
    text = page.content.decode()
    assert "Newest dossiers" in text
    processing = sorted((d for d in listed if d.status == S.PROCESSING), key=lambda d: -d.pk)
    assert codes(page) == [d.code for d in processing[PER_PAGE : 2 * PER_PAGE]]


def test_numbered_links_stop_where_the_keyset_takes_over(client, staff, listed):
    client.force_login(staff["director"])
    text = client.get(changelist_url()).content.decode()
    assert "p=2" in text and "p=3" not in text and "p=4" not in text
    assert OLDER.search(text)
    # A cursor that is not a number is the newest page, not an error.
    assert codes(client.get(changelist_url(after="x"))) == codes(client.get(changelist_url()))


def test_a_sorted_list_keeps_its_numbered_pages(client, staff, listed):
    client.force_login(staff["director"])
    response = client.get(changelist_url(o="1"))
    assert response.status_code == 200
    assert not OLDER.search(response.content.decode())


# ---------------------------------------------------------------- the API


def test_api_cursors_walk_every_dossier_once_both_ways_with_filters(register, staff):
    # Several dossiers share a submission time: the cursor must still not skip any.
    made = []
    for i in range(8):
        when = at(2026, 5, 20, 8, 0) + timedelta(minutes=7 * (i // 3))
        made.append(register(now=when))
    client = APIClient()
    client.force_login(staff["intake"])
    for params in [
        "",
        "&" + urlencode({"search": "Nguyễn"}),
        f"&status={S.SUBMITTED}&search=V%C4%83n",
    ]:
        expected = [
            d.code
            for d in dossier_list(
                user=staff["intake"],
                **({"search": "Nguyễn"} if "Nguyễn" in params else {}),
                **({"status": [S.SUBMITTED], "search": "Văn"} if "V%C4%83n" in params else {}),
            ).order_by("-submitted_at", "-id")
        ]
        assert len(expected) == 8
        seen, url, pages = [], "/api/v1/dossiers/?page_size=3" + params, []
        while url:
            body = client.get(url).json()
            pages.append(body)
            seen += [row["code"] for row in body["results"]]
            url = body["next"]
        assert seen == expected
        assert pages[0]["previous"] is None and pages[-1]["next"] is None
        # And back from the last page by the previous cursors.
        back, url = [], pages[-1]["previous"]
        while url:
            body = client.get(url).json()
            back = [row["code"] for row in body["results"]] + back
            url = body["previous"]
        assert back + [row["code"] for row in pages[-1]["results"]] == expected


def test_api_refuses_a_forged_cursor(staff):
    client = APIClient()
    client.force_login(staff["intake"])
    for cursor in ["garbage", "eHwyMDI2LTA1LTIwfDY", "bnwyMDI2LTA1LTIwVDAxOjA3OjAwfDY"]:
        response = client.get("/api/v1/dossiers/", {"cursor": cursor})
        assert response.status_code == 404
        assert response.json()["detail"] == "Invalid cursor"


@pytest.mark.parametrize(
    "params",
    [{}, {"status": S.PROCESSING}, {"q": "Nguyễn"}, {"o": "1"}],
    ids=["all", "filtered", "searched", "sorted by code"],
)
def test_a_deep_numbered_page_is_read_by_its_ids_with_the_same_rows(
    client, staff, listed, monkeypatch, params
):
    """`?p=N` typed deep: the rows before the page are skipped reading ids alone (no
    joins), then the page's rows are read by primary key, in the list's order."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(staff["director"])
    plain = walk_by_offset(client, params)
    monkeypatch.setattr(DossierPaginator, "deferred_from_row", PER_PAGE)  # from page 2
    with CaptureQueriesContext(connection) as ctx:
        page_two = client.get(changelist_url(**params, p=2))
    assert codes(page_two) == plain[PER_PAGE : 2 * PER_PAGE]
    sqls = [q["sql"] or "" for q in ctx.captured_queries]
    offsets = [sql for sql in sqls if "OFFSET" in sql.upper()]
    assert len(offsets) == 1
    assert offsets[0].startswith('SELECT "procedures_dossier"."id" AS "pk" FROM')
    assert "JOIN" not in offsets[0].upper()
    assert walk_by_offset(client, params) == plain
