"""Public catalogue API: /api/v1/procedures/ and /api/v1/procedures/<code>/."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from rest_framework.test import APIClient

from procedures.catalogue.services import procedure_amend
from procedures.core.constants import OnlineLevel
from tests.factories import FieldFactory, ProcedureFactory, RequiredDocumentFactory, UnitFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/procedures/"


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def catalogue():
    trade = FieldFactory(name="Lưu thông hàng hóa trong nước", ministry_code="G02-CT11")
    food = FieldFactory(name="An toàn thực phẩm", ministry_code="G02-CT01")
    return {
        "trade": trade,
        "food": food,
        "retail": ProcedureFactory(
            code="2.000633", name="Cấp Giấy phép bán lẻ rượu", field=trade, online=True
        ),
        "tobacco": ProcedureFactory(
            code="2.000162",
            name="Cấp Giấy phép bán lẻ sản phẩm thuốc lá",
            field=trade,
            unpublished_time=True,
        ),
        "food_cert": ProcedureFactory(
            code="2.000591",
            name="Cấp Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm",
            field=food,
            partly_online=True,
        ),
        "abolished": ProcedureFactory(
            code="2.000999", name="Cấp Giấy phép bán buôn rượu", field=trade, abolished=True
        ),
    }


def codes(response):
    return [row["code"] for row in response.json()["results"]]


def test_list_is_paginated_and_active_only(api, catalogue, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):  # count + page, fields joined
        response = api.get(LIST)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert set(codes(response)) == {"2.000633", "2.000162", "2.000591"}
    row = next(r for r in body["results"] if r["code"] == "2.000162")
    assert row["time_published"] is False
    assert row["processing_amount"] is None
    assert row["field"] == {
        "id": catalogue["trade"].pk,
        "name": "Lưu thông hàng hóa trong nước",
        "ministry_code": "G02-CT11",
    }
    assert "2.000999" in codes(api.get(LIST, {"include_abolished": "true"}))


def test_list_filters(api, catalogue):
    assert set(codes(api.get(LIST, {"field": catalogue["food"].pk}))) == {"2.000591"}
    assert codes(api.get(LIST, {"online_level": OnlineLevel.FULL})) == ["2.000633"]
    assert codes(api.get(LIST, {"online_level": "partial", "field": catalogue["trade"].pk})) == []


def test_list_search_by_name_without_diacritics_and_by_code(api, catalogue):
    assert codes(api.get(LIST, {"search": "ban le ruou"})) == ["2.000633"]
    assert codes(api.get(LIST, {"search": "THUỐC LÁ"})) == ["2.000162"]
    assert codes(api.get(LIST, {"search": "2.000591"})) == ["2.000591"]


def test_list_rejects_bad_filters(api, catalogue):
    assert api.get(LIST, {"online_level": "level9"}).status_code == 400
    assert api.get(LIST, {"field": "abc"}).status_code == 400


def test_list_paginates(api):
    ProcedureFactory.create_batch(25)
    body = api.get(LIST).json()
    assert body["count"] == 25 and len(body["results"]) == 20 and body["next"]
    assert len(api.get(LIST, {"page": 2}).json()["results"]) == 5


def test_detail_returns_every_part(api, catalogue, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    retail = catalogue["retail"]
    retail.implementing_unit = UnitFactory(code="QLTM", name="Phòng Quản lý Thương mại")
    retail.steps = "Bước 1: nộp hồ sơ"
    retail.save()
    form = RequiredDocumentFactory(procedure=retail, name="Đơn đề nghị (Mẫu 01)", order=1)
    form.template.save("mau-01.docx", ContentFile(b"form"), save=True)
    RequiredDocumentFactory(
        procedure=retail, name="Bản sao giấy đăng ký doanh nghiệp", kind="copy", order=2
    )
    procedure_amend(
        procedure=retail,
        changes={"processing_amount": 7},
        decision_number="2/QĐ-UBND",
        decision_date=None,
        effective_from=datetime.date(2019, 7, 1),
    )

    response = api.get(f"{LIST}2.000633/")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Cấp Giấy phép bán lẻ rượu"
    assert body["time_published"] is True
    assert Decimal(body["processing_amount"]) == Decimal("7")
    assert body["processing_unit"] == "working_days"
    assert body["fee_vnd"] == 0
    assert body["channel_online"] is True and body["channel_direct"] is True
    assert body["online_level"] == "full"
    assert body["steps"] == "Bước 1: nộp hồ sơ"
    assert body["implementing_unit"]["code"] == "QLTM"
    assert [d["name"] for d in body["documents"]] == [
        "Đơn đề nghị (Mẫu 01)",
        "Bản sao giấy đăng ký doanh nghiệp",
    ]
    assert body["documents"][0]["template_url"].startswith("http://testserver/")
    assert body["documents"][1]["template_url"] is None
    assert [v["number"] for v in body["versions"]] == [2, 1]
    assert body["versions"][0]["changes"] == {"processing_amount": ["10.0", "7.0"]}
    assert Decimal(body["versions"][0]["time_saved"]) == Decimal("3")


def test_detail_of_abolished_procedure_shows_its_status(api, catalogue):
    body = api.get(f"{LIST}2.000999/").json()
    assert body["status"] == "abolished"
    assert body["versions"][0]["kind"] == "abolished"


def test_detail_unknown_code_is_404(api, catalogue):
    assert api.get(f"{LIST}9.999999/").status_code == 404


def test_api_is_read_only(api, catalogue):
    assert api.post(LIST, {"name": "x"}).status_code == 405
    assert api.delete(f"{LIST}2.000633/").status_code == 405


def test_openapi_schema(api):
    response = api.get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/v1/procedures/{code}/" in response.content


@pytest.mark.django_db
def test_search_needs_every_word_in_any_order_without_accents(client):
    ProcedureFactory(name="Cấp Giấy phép bán lẻ sản phẩm rượu", code="2.000633")
    ProcedureFactory(name="Cấp Giấy phép bán buôn sản phẩm thuốc lá", code="2.000150")

    def names(q):
        response = client.get("/api/v1/procedures/", {"search": q})
        return [r["name"] for r in response.json()["results"]]

    assert names("bán lẻ rượu") == ["Cấp Giấy phép bán lẻ sản phẩm rượu"]
    assert names("ruou ban le") == ["Cấp Giấy phép bán lẻ sản phẩm rượu"]
    assert names("2.000150") == ["Cấp Giấy phép bán buôn sản phẩm thuốc lá"]
    assert names("rượu thuốc") == []


def test_the_api_gives_the_document_template_names_the_source_and_the_online_rule(client):
    from tests.factories import ProcedureFactory, RequiredDocumentFactory

    procedure = ProcedureFactory(code="2.000636", online=True)
    procedure.documents_source = "https://dichvucong.gov.vn/thu-tuc/2.000636"
    procedure.save(update_fields=["documents_source"])
    RequiredDocumentFactory(procedure=procedure, name="Đơn đề nghị", template_name="Mẫu số 03")
    ProcedureFactory(code="2.000637", online=True, district=True)
    body = client.get(f"{LIST}2.000636/").json()
    assert body["accepts_online"] is True
    assert body["documents_source"] == "https://dichvucong.gov.vn/thu-tuc/2.000636"
    assert [(d["name"], d["template_name"]) for d in body["documents"]] == [
        ("Đơn đề nghị", "Mẫu số 03")
    ]
    # The list is the department's: the district-level procedure is not in it.
    assert [r["code"] for r in client.get(LIST).json()["results"]] == ["2.000636"]
