"""Public catalogue pages (portal items 1-2): home, list with filters, detail."""

import datetime

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.test import Client, override_settings
from django.urls import reverse

from procedures.core.constants import OnlineLevel
from tests.factories import FieldFactory, ProcedureFactory, RequiredDocumentFactory

from .test_portal_submission import DOCX, _english  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue():
    trade = FieldFactory(name="Lưu thông hàng hóa trong nước", order=1)
    food = FieldFactory(name="An toàn thực phẩm", order=2)
    FieldFactory(name="Điện lực", order=3)  # no procedure: not listed
    return {
        "trade": trade,
        "food": food,
        "wine": ProcedureFactory(
            code="2.000633",
            name="Cấp Giấy phép bán lẻ rượu",
            field=trade,
            online=True,
            channel_online=True,
        ),
        "tobacco": ProcedureFactory(
            code="2.000162",
            name="Cấp Giấy phép bán lẻ sản phẩm thuốc lá",
            field=trade,
            partly_online=True,
        ),
        "food_cert": ProcedureFactory(
            code="2.000591",
            name="Cấp Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm",
            field=food,
        ),
        "abolished": ProcedureFactory(
            code="2.000999", name="Cấp Giấy phép bán buôn rượu", field=trade, abolished=True
        ),
    }


def names(response):
    return [p.name for p in response.context["page"].object_list]


@override_settings(
    DEPARTMENT_HOTLINE="0208 1111 222",
    DEPARTMENT_ADDRESS="Số 8 Đội Cấn",
    DEPARTMENT_HOURS="Thứ Hai - Thứ Sáu: 07:00-17:00",
)
def test_home_has_search_fields_with_counts_contacts_and_links(
    client, catalogue, django_assert_max_num_queries
):
    with django_assert_max_num_queries(2):  # fields with counts + catalogue counts
        response = client.get(reverse("procedures:home"))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'role="search"' in html and 'name="q"' in html
    fields = {f.name: f.procedure_count for f in response.context["fields"]}
    assert fields == {"Lưu thông hàng hóa trong nước": 2, "An toàn thực phẩm": 1}
    assert f"?field={catalogue['trade'].pk}" in html
    assert "0208 1111 222" in html and "Số 8 Đội Cấn" in html and "07:00-17:00" in html
    assert reverse("procedures:lookup") in html
    assert reverse("procedures:public-stats") in html


@pytest.mark.usefixtures("vietnamese")
def test_the_home_page_is_vietnamese_by_default_with_a_switch_to_english(catalogue):
    client = Client()
    html = client.get("/").content.decode()
    assert '<html lang="vi">' in html
    assert 'action="/i18n/setlang/"' in html and 'value="en"' in html
    assert '<html lang="en">' in client.get("/en/").content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("rượu", ["Cấp Giấy phép bán lẻ rượu"]),
        ("ruou", ["Cấp Giấy phép bán lẻ rượu"]),  # typed without accents on a phone
        ("ban le", ["Cấp Giấy phép bán lẻ rượu", "Cấp Giấy phép bán lẻ sản phẩm thuốc lá"]),
        ("bán lẻ thuốc lá", ["Cấp Giấy phép bán lẻ sản phẩm thuốc lá"]),  # every word, any order
        ("thuoc la ban le", ["Cấp Giấy phép bán lẻ sản phẩm thuốc lá"]),
        ("THỰC PHẨM", ["Cấp Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm"]),
        ("2.000162", ["Cấp Giấy phép bán lẻ sản phẩm thuốc lá"]),
        ("bán buôn", []),  # abolished
    ],
)
def test_search_ignores_accents_and_case(client, catalogue, query, expected):
    response = client.get(reverse("procedures:procedure-list"), {"q": query})
    assert sorted(names(response)) == sorted(expected)


def test_filters_by_field_and_online_level(client, catalogue, django_assert_max_num_queries):
    url = reverse("procedures:procedure-list")
    with django_assert_max_num_queries(3):  # count + page + the field choices
        response = client.get(url, {"field": catalogue["trade"].pk})
    assert sorted(names(response)) == [
        "Cấp Giấy phép bán lẻ rượu",
        "Cấp Giấy phép bán lẻ sản phẩm thuốc lá",
    ]
    response = client.get(url, {"field": catalogue["trade"].pk, "online_level": OnlineLevel.FULL})
    assert names(response) == ["Cấp Giấy phép bán lẻ rượu"]
    assert "1 procedure found" in response.content.decode()
    nothing = client.get(url, {"q": "xyz không có"})
    assert "No procedure matches" in nothing.content.decode()


def test_a_bad_filter_is_reported_on_its_field(client, catalogue):
    response = client.get(reverse("procedures:procedure-list"), {"online_level": "level9"})
    assert response.status_code == 400
    assert "online_level" in response.context["form"].errors


def test_the_list_is_paginated(client):
    field = FieldFactory(name="Hóa chất")
    for _ in range(23):
        ProcedureFactory(field=field)
    url = reverse("procedures:procedure-list")
    first = client.get(url, {"field": field.pk})
    assert len(names(first)) == 20
    assert f"field={field.pk}&amp;page=2" in first.content.decode()
    assert len(names(client.get(url, {"field": field.pk, "page": 2}))) == 3


def test_detail_shows_every_part_of_the_catalogue_entry(client, procedure):
    procedure.steps = "Bước 1: Nộp hồ sơ.\nBước 2: Nhận kết quả."
    procedure.applicants = "Thương nhân"
    procedure.conditions = "Có địa điểm kinh doanh cố định"
    procedure.result = "Giấy phép bán lẻ sản phẩm rượu"
    procedure.legal_basis = "Nghị định 105/2017/NĐ-CP"
    procedure.fee_text = "Tại thành phố: 1.200.000 đồng/điểm kinh doanh"
    procedure.save()
    doc = RequiredDocumentFactory(
        procedure=procedure, name="Đơn đề nghị cấp giấy phép", mandatory=True, copies=2
    )
    doc.template.save("mau-01.docx", ContentFile(DOCX), save=True)
    RequiredDocumentFactory(procedure=procedure, name="Giấy ủy quyền", mandatory=False)

    # Monday 1 June 2026 at 09:00: 5 working days -> Monday 8 June 09:00; 3 online -> Thursday.
    with time_machine.travel(datetime.datetime(2026, 6, 1, 2, 0, tzinfo=datetime.UTC), tick=False):
        response = client.get(reverse("procedures:procedure-detail", args=[procedure.pk]))
    html = response.content.decode()
    for part in [
        "2.000633",
        "Cấp Giấy phép bán lẻ sản phẩm rượu",
        "Lưu thông hàng hóa trong nước",
        "5 working days",
        "3 working days when submitted online",
        "1,200,000 VND",
        # One formatter: amounts in the text grouped like the fee itself.
        "Tại thành phố: 1,200,000 đồng/điểm kinh doanh",
        "Bước 2: Nhận kết quả.",
        "Thương nhân",
        "Có địa điểm kinh doanh cố định",
        "Giấy phép bán lẻ sản phẩm rượu",
        "Nghị định 105/2017/NĐ-CP",
        "QĐ 1/2026",
        "Đơn đề nghị cấp giấy phép",
        "2 copies",
        "if applicable",
        "Phòng Quản lý Thương mại",
        "At the one-stop desk",
        "By public postal service",
        "Online, on this site",
        "Fully online",
    ]:
        assert part in html, part
    assert "due on 09:00, Monday 08/06/2026" in html
    assert "submitted online: due on 09:00, Thursday 04/06/2026" in html
    assert reverse("procedures:submit", args=[procedure.pk]) in html

    template_url = reverse("procedures:document-template", args=[procedure.pk, doc.pk])
    assert template_url in html
    download = client.get(template_url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == DOCX
    assert "attachment" in download["Content-Disposition"]


def test_no_submit_button_when_the_procedure_is_not_online(client, catalogue):
    html = client.get(
        reverse("procedures:procedure-detail", args=[catalogue["food_cert"].pk])
    ).content.decode()
    assert "Submit a dossier online" not in html
    assert "Online, on this site" not in html


def test_unpublished_time_and_abolished_are_said_plainly(client, catalogue):
    unpublished = ProcedureFactory(unpublished_time=True, online=True)
    html = client.get(
        reverse("procedures:procedure-detail", args=[unpublished.pk])
    ).content.decode()
    assert "not yet published, so it cannot take dossiers yet" in html
    assert "Submit a dossier online" not in html
    html = client.get(
        reverse("procedures:procedure-detail", args=[catalogue["abolished"].pk])
    ).content.decode()
    assert "This procedure has been abolished" in html
    assert "If accepted now" not in html


def test_templates_of_abolished_procedures_and_missing_ones_are_404(client, catalogue):
    doc = RequiredDocumentFactory(procedure=catalogue["wine"])
    assert (
        client.get(
            reverse("procedures:document-template", args=[catalogue["wine"].pk, doc.pk])
        ).status_code
        == 404
    )
    other = RequiredDocumentFactory(procedure=catalogue["tobacco"])
    other.template.save("x.docx", ContentFile(DOCX), save=True)
    assert (
        client.get(
            reverse("procedures:document-template", args=[catalogue["wine"].pk, other.pk])
        ).status_code
        == 404
    )


@pytest.mark.usefixtures("vietnamese")
def test_money_is_grouped_the_vietnamese_way_on_vietnamese_pages(procedure):
    html = Client().get(f"/thu-tuc/{procedure.pk}/").content.decode()
    assert "1.200.000" in html


# --- issue 15: one department's list, one rule for "online", documents on the page ---


def test_district_procedures_are_kept_flagged_but_not_listed_counted_or_submittable(
    client, catalogue
):
    district = ProcedureFactory(
        name="Cấp Giấy phép bán lẻ rượu (cấp huyện)",
        field=catalogue["trade"],
        district=True,
        online=True,
    )
    response = client.get(reverse("procedures:procedure-list"), {"q": "rượu"})
    assert names(response) == ["Cấp Giấy phép bán lẻ rượu"]
    home = client.get(reverse("procedures:home"))
    fields = {f.name: f.procedure_count for f in home.context["fields"]}
    assert fields["Lưu thông hàng hóa trong nước"] == 2
    assert home.context["counts"]["total"] == 3
    html = client.get(reverse("procedures:procedure-detail", args=[district.pk])).content.decode()
    assert 'id="not-departmental"' in html
    assert reverse("procedures:submit", args=[district.pk]) not in html
    assert "If accepted now" not in html


def test_the_home_count_is_the_number_of_submit_buttons(client, catalogue):
    field = catalogue["food"]
    # Each of these has an online level but cannot take an online dossier here.
    ProcedureFactory(field=field, online=True, unpublished_time=True)
    ProcedureFactory(field=field, online=True, district=True)
    ProcedureFactory(field=field, partly_online=True, abolished=True)
    closed = ProcedureFactory(field=field, online=True)
    closed.channel_online = False
    closed.save(update_fields=["channel_online"])
    from procedures.models import Procedure

    buttons = 0
    for p in Procedure.objects.all():
        html = client.get(reverse("procedures:procedure-detail", args=[p.pk])).content.decode()
        buttons += reverse("procedures:submit", args=[p.pk]) in html
    counts = client.get(reverse("procedures:home")).context["counts"]
    assert counts["online"] == buttons == 2  # wine (full) and tobacco (partly)
    assert (counts["full"], counts["partial"]) == (1, 1)
    online = client.get(reverse("procedures:procedure-list"), {"online_level": "full"})
    assert names(online) == ["Cấp Giấy phép bán lẻ rượu"]


@pytest.mark.parametrize("status", ["active", "abolished"])
@pytest.mark.parametrize("level", ["province", "district"])
@pytest.mark.parametrize("amount", [None, "5"])
@pytest.mark.parametrize("online_level", ["full", "partial", "none"])
@pytest.mark.parametrize("channel_online", [True, False])
def test_the_online_rule_is_the_same_for_a_query_and_a_loaded_row(
    status, level, amount, online_level, channel_online
):
    from procedures.models import Procedure

    procedure = ProcedureFactory(
        processing_amount=amount,
        online_level=online_level,
        channel_online=channel_online,
        level=level,
    )
    Procedure.objects.filter(pk=procedure.pk).update(status=status)
    procedure.refresh_from_db()
    assert Procedure.objects.accepting_online().filter(pk=procedure.pk).exists() == (
        procedure.accepts_online
    )
    assert Procedure.objects.accepting_dossiers().filter(pk=procedure.pk).exists() == (
        procedure.accepts_dossiers
    )


def test_the_page_lists_documents_with_kind_copies_template_mandatory_and_source(client, catalogue):
    wine = catalogue["wine"]
    RequiredDocumentFactory(
        procedure=wine,
        name="Đơn đề nghị cấp Giấy phép",
        order=1,
        template_name="Mẫu số 01 Phụ lục Nghị định 105/2017/NĐ-CP",
    )
    RequiredDocumentFactory(
        procedure=wine,
        name="Bản sao Giấy chứng nhận đăng ký doanh nghiệp",
        order=2,
        kind="certified_copy",
        copies=2,
    )
    RequiredDocumentFactory(procedure=wine, name="Giấy ủy quyền", order=3, mandatory=False)
    wine.documents_source = "https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh.html"
    wine.save(update_fields=["documents_source"])
    html = client.get(reverse("procedures:procedure-detail", args=[wine.pk])).content.decode()
    section = html[html.index('id="documents"') : html.index('id="details-title"')]
    for part in [
        "Đơn đề nghị cấp Giấy phép",
        "Form: Mẫu số 01 Phụ lục Nghị định 105/2017/NĐ-CP",
        "Certified copy",
        "2 copies",
        "if applicable",
        "mandatory",
        'href="https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh.html"',
    ]:
        assert part in section, part
    assert section.count("mandatory</span>") == 2
    assert 'id="documents-not-published"' not in section


def test_without_a_list_the_page_says_so_and_points_to_the_generic_slot(client, catalogue):
    html = client.get(
        reverse("procedures:procedure-detail", args=[catalogue["wine"].pk])
    ).content.decode()
    assert 'id="documents-not-published"' in html
    assert "has not been published yet" in html
    assert "attach your whole dossier under one file slot" in html
    html = client.get(
        reverse("procedures:procedure-detail", args=[catalogue["food_cert"].pk])
    ).content.decode()
    assert "Ask the one-stop desk which papers to bring" in html


def test_no_province_attribution_or_old_level_reaches_the_page(client, catalogue):
    wine = catalogue["wine"]
    wine.online_level_text = "Toàn trình (Nghệ An); Mức độ 4 (BR-VT)"
    wine.save(update_fields=["online_level_text"])
    html = client.get(reverse("procedures:procedure-detail", args=[wine.pk])).content.decode()
    assert "Nghệ An" not in html and "Mức độ" not in html
    assert "Fully online (toàn trình)" in html


@pytest.mark.parametrize(
    ("fee_vnd", "fee_text", "vi", "en"),
    [
        (1200000, "", "1.200.000 đồng", "1,200,000 VND"),
        (0, "", "Không thu phí, lệ phí", "Free of charge"),
        (
            None,
            "1200000 (TP, thị xã); 600000 (huyện) theo TT 168/2016/TT-BTC",
            "1.200.000 (TP, thị xã); 600.000 (huyện) theo TT 168/2016/TT-BTC",
            "1,200,000 (TP, thị xã); 600,000 (huyện) theo TT 168/2016/TT-BTC",
        ),
        (
            None,
            "TC/DN: 1.200.000 (TP) / 600.000 (huyện); HKD: 400.000 / 200.000",
            "TC/DN: 1.200.000 (TP) / 600.000 (huyện); HKD: 400.000 / 200.000",
            "TC/DN: 1,200,000 (TP) / 600,000 (huyện); HKD: 400,000 / 200,000",
        ),
        (None, "Theo TT 08/2018/TT-BTC", "Theo TT 08/2018/TT-BTC", "Theo TT 08/2018/TT-BTC"),
        (None, "", "", ""),
    ],
)
def test_fees_are_written_one_way(fee_vnd, fee_text, vi, en):
    from django.utils import translation

    from procedures.catalogue.fees import fee_format

    with translation.override("vi"):
        assert fee_format(fee_vnd=fee_vnd, fee_text=fee_text) == vi
    with translation.override("en"):
        assert fee_format(fee_vnd=fee_vnd, fee_text=fee_text) == en
