"""The catalogue cache (issue 13 item 1): the procedure page and the procedure API list
are served from the cache, and every kind of catalogue write shows on both at once, in
both languages; what belongs to one request (CSRF token, the address being viewed) is
never shared."""

import datetime
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import transaction
from django.test import Client
from django.utils import translation
from rest_framework.test import APIClient

from procedures.catalogue import cache as catalogue_cache
from procedures.catalogue.importing import procedure_import_file
from procedures.catalogue.process import StepSpec, process_replace
from procedures.catalogue.services import (
    DocumentSpec,
    field_assign_implementing_unit,
    procedure_abolish,
    procedure_amend,
    procedure_create,
    procedure_documents_set,
    procedure_update,
)
from procedures.core.constants import OnlineLevel, StepRole
from procedures.models import Procedure, RequiredDocument, Unit
from tests.factories import ProcedureFactory

from .test_redis_down import _fresh_outage_state, own_redis, redis_cache  # noqa: F401
from .test_throttle_counters import round_trips  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("vietnamese")]

SAMPLE = Path(__file__).resolve().parent / "data" / "national_export.json"
LANGUAGES = ("vi", "en")
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def page(procedure_pk: int, lang: str, client: Client | None = None) -> str:
    prefix = "" if lang == "vi" else "/en"
    response = (client or Client()).get(f"{prefix}/thu-tuc/{procedure_pk}/")
    assert response.status_code == 200
    return response.content.decode()


def api(lang: str, **params) -> dict:
    response = APIClient().get("/api/v1/procedures/", params, HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 200
    return response.json()


def translated(text: str, lang: str) -> str:
    with translation.override(lang):
        return translation.gettext(text)


def prime(procedure: Procedure) -> None:
    """Both languages of the page and of the list in the cache, and served from it."""
    for lang in LANGUAGES:
        page(procedure.pk, lang)
        api(lang)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        for lang in LANGUAGES:
            page(procedure.pk, lang)
            api(lang)
    assert [q["sql"] for q in queries.captured_queries if "procedures_procedure" in q["sql"]] == []


def test_a_page_from_the_cache_is_the_page_from_the_database(procedure, django_assert_num_queries):
    for lang in LANGUAGES:
        fresh = page(procedure.pk, lang)
        with django_assert_num_queries(0):
            cached = page(procedure.pk, lang)
        assert CSRF.sub("", cached) == CSRF.sub("", fresh)
        assert "Cấp Giấy phép bán lẻ sản phẩm rượu" in cached
    assert 'lang="vi"' in page(procedure.pk, "vi") and 'lang="en"' in page(procedure.pk, "en")
    assert translated("Documents to provide", "vi") in page(procedure.pk, "vi")
    assert "Documents to provide" in page(procedure.pk, "en")


def test_the_due_time_is_computed_for_each_request(procedure, time_machine):
    time_machine.move_to(datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC), tick=False)
    first = page(procedure.pk, "en")
    time_machine.move_to(datetime.datetime(2026, 3, 9, 9, 0, tzinfo=datetime.UTC), tick=False)
    later = page(procedure.pk, "en")  # same catalogue version: the body comes from the cache
    assert "due on 16:00, Monday 09/03/2026" in first
    assert "due on 16:00, Monday 16/03/2026" in later
    assert "submitted online: due on 16:00, Thursday 05/03/2026" in first
    assert "submitted online: due on 16:00, Thursday 12/03/2026" in later
    # The lines are kept per minute shown; seconds later, the same minute.
    time_machine.move_to(datetime.datetime(2026, 3, 9, 9, 0, 40, tzinfo=datetime.UTC), tick=False)
    assert CSRF.sub("", page(procedure.pk, "en")) == CSRF.sub("", later)
    assert "submitted online" not in page(
        ProcedureFactory(processing_amount=Decimal("4"), online=True, channel_online=True).pk,
        "en",
    )


def test_request_specific_parts_are_not_shared(procedure):
    one, two = Client(), Client()
    page(procedure.pk, "vi", one)  # fills the cache
    first, second = page(procedure.pk, "vi", one), page(procedure.pk, "vi", two)
    assert CSRF.search(first) and CSRF.search(second)
    assert one.cookies["csrftoken"].value != two.cookies["csrftoken"].value
    assert CSRF.sub("", first) == CSRF.sub("", second)
    # The language switch sends back the address being viewed, not the one cached.
    html = two.get(f"/thu-tuc/{procedure.pk}/?from=search").content.decode()
    assert f'value="/thu-tuc/{procedure.pk}/?from=search"' in html


def test_an_edited_procedure_shows_at_once(procedure):
    prime(procedure)
    procedure_update(
        procedure=procedure,
        changes={"name": "Cấp lại Giấy phép bán lẻ rượu", "legal_basis": "Nghị định 105/2017"},
    )
    for lang in LANGUAGES:
        html = page(procedure.pk, lang)
        assert "Cấp lại Giấy phép bán lẻ rượu" in html and "Nghị định 105/2017" in html
        assert [p["name"] for p in api(lang)["results"]] == ["Cấp lại Giấy phép bán lẻ rượu"]


def test_a_changed_fee_and_time_show_at_once(procedure):
    prime(procedure)
    procedure_amend(
        procedure=procedure,
        changes={"fee_vnd": 2_500_000, "processing_amount": Decimal("7")},
        decision_number="QĐ 2/2026",
        decision_date=datetime.date(2026, 2, 1),
        effective_from=datetime.date(2026, 2, 1),
    )
    assert "2.500.000" in page(procedure.pk, "vi")
    assert "2,500,000" in page(procedure.pk, "en")
    for lang in LANGUAGES:
        [listed] = api(lang)["results"]
        assert (listed["fee_vnd"], listed["processing_amount"]) == (2_500_000, "7.0")


def test_document_slots_show_at_once(procedure):
    procedure_documents_set(
        procedure=procedure, documents=[DocumentSpec("Đơn đề nghị cấp giấy phép")]
    )
    prime(procedure)
    procedure_documents_set(
        procedure=procedure,
        documents=[DocumentSpec("Bản sao giấy chứng nhận đăng ký doanh nghiệp", copies=2)],
    )
    for lang in LANGUAGES:
        html = page(procedure.pk, lang)
        assert "Bản sao giấy chứng nhận đăng ký doanh nghiệp" in html
        assert "Đơn đề nghị cấp giấy phép" not in html
    # A slot edited in the admin (a plain save) and one deleted.
    doc = RequiredDocument.objects.get(procedure=procedure)
    doc.mandatory = False
    doc.save()
    assert translated("if applicable", "vi") in page(procedure.pk, "vi")
    assert "if applicable" in page(procedure.pk, "en")
    doc.delete()
    assert 'id="documents-not-published"' in page(procedure.pk, "vi")
    assert 'id="documents-not-published"' in page(procedure.pk, "en")


def test_an_abolished_procedure_shows_at_once(procedure):
    prime(procedure)
    procedure_abolish(
        procedure=procedure,
        decision_number="QĐ 9/2026",
        decision_date=datetime.date(2026, 3, 1),
        effective_from=datetime.date(2026, 3, 1),
    )
    notice = "This procedure has been abolished and no longer takes dossiers."
    for lang in LANGUAGES:
        html = page(procedure.pk, lang)
        assert translated(notice, lang) in html
        assert translated("Submit a dossier online", lang) not in html
        assert api(lang)["count"] == 0
        assert api(lang, include_abolished="true")["results"][0]["status"] == "abolished"


def test_units_fields_and_bulk_updates_show_at_once(procedure, units):
    prime(procedure)
    Unit.objects.filter(pk=units["QLTM"].pk).get().save()  # unchanged: still fine
    unit = units["QLTM"]
    unit.name = "Phòng Thương mại và Xuất nhập khẩu"
    unit.save()
    for lang in LANGUAGES:
        assert "Phòng Thương mại và Xuất nhập khẩu" in page(procedure.pk, lang)
    procedure.field.name = "Thương mại trong nước"
    procedure.field.save()
    for lang in LANGUAGES:
        assert "Thương mại trong nước" in page(procedure.pk, lang)
        assert api(lang)["results"][0]["field"]["name"] == "Thương mại trong nước"
    # queryset.update() sends no signal: the service bumps the version itself.
    Procedure.objects.filter(pk=procedure.pk).update(implementing_unit=None)
    catalogue_cache.bump()
    prime(procedure)
    assert field_assign_implementing_unit(field=procedure.field, unit=units["QLCN"]) == 1
    for lang in LANGUAGES:
        assert "Phòng Quản lý Công nghiệp" in page(procedure.pk, lang)


def test_an_import_shows_at_once(trade_field):
    wine = procedure_create(
        name="Cấp Giấy phép bán lẻ sản phẩm rượu",
        code="2.000633",
        field=trade_field,
        decision_number="QĐ 1/2026",
        decision_date=datetime.date(2026, 1, 1),
        effective_from=datetime.date(2026, 1, 1),
        processing_amount=Decimal("5"),
        online_level=OnlineLevel.FULL,
    )
    prime(wine)
    assert [api(lang)["count"] for lang in LANGUAGES] == [1, 1]
    report = procedure_import_file(path=SAMPLE)  # the national portal's JSON export
    assert (report.created, report.updated) == (1, 1)
    for lang in LANGUAGES:
        assert api(lang)["count"] == 2
        html = page(wine.pk, lang)
        assert "Mẫu số 01" in html  # its documents came with the import
    assert "10 " + translated("working days", "vi") in page(wine.pk, "vi")


def test_the_process_and_settings_drop_the_cache(procedure, settings):
    prime(procedure)
    version, _ = catalogue_cache.get("probe")
    process_replace(
        procedure=procedure,
        steps=[StepSpec("Tiếp nhận, thẩm định và ký", StepRole.SPECIALIST, Decimal("40"))],
    )
    assert catalogue_cache.get("probe")[0] != version
    settings.DEPARTMENT_ADDRESS = "Số 10 Trần Phú"
    assert "Số 10 Trần Phú" in page(procedure.pk, "vi")


def test_the_api_list_from_the_cache_is_the_list_from_the_database(
    procedure, trade_field, settings, django_assert_num_queries
):
    settings.ALLOWED_HOSTS = ["testserver", "portal.example.org"]

    ProcedureFactory.create_batch(25, field=trade_field)
    client = APIClient()
    for params in ({}, {"page": "2"}, {"field": trade_field.pk, "page": "2"}):
        fresh = client.get("/api/v1/procedures/", params)
        with django_assert_num_queries(0):
            cached = client.get("/api/v1/procedures/", params)
        assert cached.content == fresh.content
        assert cached["Content-Type"] == fresh["Content-Type"]
        assert cached.get("Vary") == fresh.get("Vary")
    # next and previous are the request's own address, whatever host asked first.
    other = client.get("/api/v1/procedures/", {"page": "2"}, HTTP_HOST="portal.example.org")
    assert other.json()["previous"] == "http://portal.example.org/api/v1/procedures/"
    assert other.json()["next"] is None and other.json()["count"] == 26
    # Searches, "last", and pages or filters that list nothing are not kept.
    with django_assert_num_queries(2):
        client.get("/api/v1/procedures/", {"search": "rượu"})
    with django_assert_num_queries(2):
        client.get("/api/v1/procedures/", {"search": "rượu"})
    with django_assert_num_queries(2):
        assert client.get("/api/v1/procedures/", {"page": "last"}).json()["count"] == 26
    assert client.get("/api/v1/procedures/", {"page": "3"}).status_code == 404
    assert client.get("/api/v1/procedures/", {"page": "3"}).status_code == 404
    assert client.get("/api/v1/procedures/", {"field": "x"}).status_code == 400


@pytest.mark.django_db(transaction=True)
def test_a_write_bumps_again_at_commit_once_per_transaction(trade_field):
    with transaction.atomic():
        created = procedure_create(
            name="Cấp Giấy phép bán buôn rượu",
            field=trade_field,
            decision_number="QĐ 3/2026",
            decision_date=None,
            effective_from=datetime.date(2026, 1, 1),
            processing_amount=Decimal("10"),
        )
        # A reader in another process takes the version bumped at once, but still
        # reads the committed rows: what it stores must not outlive the commit.
        during, _ = catalogue_cache.get("page-probe")
        catalogue_cache.put("page-probe", during, "the rows before the commit")
        assert catalogue_cache.get("page-probe") == (during, "the rows before the commit")
        for _ in range(3):
            created.save()
        connection = transaction.get_connection()
        pending = [f for _s, f, _r in connection.run_on_commit if f is catalogue_cache.bump]
        assert len(pending) == 1
    after, value = catalogue_cache.get("page-probe")
    assert after != during and value is None


# --- on a real Redis (a redis-server of the test's own, as test_redis_down.py) ---


@pytest.fixture
def on_redis(own_redis, settings):  # noqa: F811
    _proc, url = own_redis
    settings.CACHES = redis_cache(url)
    return own_redis


def test_on_redis_a_cached_page_costs_one_round_trip_and_a_write_drops_it(
    procedure, on_redis, round_trips, django_assert_num_queries
):
    for lang in LANGUAGES:
        fresh = page(procedure.pk, lang)
        del round_trips[:]
        with django_assert_num_queries(0):
            cached = page(procedure.pk, lang)
        assert round_trips == ["PIPELINE"]  # the version and the entry, one MGET
        assert CSRF.sub("", cached) == CSRF.sub("", fresh)
        api(lang)
        with django_assert_num_queries(0):
            assert api(lang)["results"][0]["code"] == "2.000633"
    procedure_update(procedure=procedure, changes={"name": "Cấp lại Giấy phép bán lẻ rượu"})
    for lang in LANGUAGES:
        assert "Cấp lại Giấy phép bán lẻ rượu" in page(procedure.pk, lang)
        assert api(lang)["results"][0]["name"] == "Cấp lại Giấy phép bán lẻ rượu"


def test_with_redis_down_the_page_and_the_list_are_still_served(procedure, on_redis):
    proc, _url = on_redis
    page(procedure.pk, "vi")
    proc.terminate()
    proc.wait(10)
    assert "Cấp Giấy phép bán lẻ sản phẩm rượu" in page(procedure.pk, "vi")
    assert api("vi")["results"][0]["code"] == "2.000633"
    procedure_update(procedure=procedure, changes={"name": "Cấp lại Giấy phép bán lẻ rượu"})
    assert "Cấp lại Giấy phép bán lẻ rượu" in page(procedure.pk, "vi")
