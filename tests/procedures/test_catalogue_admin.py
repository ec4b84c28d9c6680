"""Catalogue admin: pages render; time, fees and abolition change only with a decision."""

import datetime
import re
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse
from django.utils import timezone

from procedures.catalogue.services import procedure_amend
from procedures.core.constants import ChangeKind, ProcedureStatus, TimeUnit
from procedures.models import CalendarOverride, Procedure
from tests.factories import FieldFactory, ProcedureFactory, RequiredDocumentFactory, UnitFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("admin", "admin@example.com", "x")
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def procedure():
    p = ProcedureFactory(
        code="2.000633", name="Cấp Giấy phép bán lẻ rượu", processing_amount=15, fee_vnd=1_200_000
    )
    RequiredDocumentFactory(procedure=p)
    return p


def url(name, *args, **query):
    base = reverse(f"admin:procedures_{name}", args=args)
    if query:
        base += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return base


def test_pages_render_for_a_superuser(admin_client, procedure):
    ProcedureFactory(unpublished_time=True)
    CalendarOverride.objects.create(date=datetime.date(2026, 2, 14), is_working=False, reason="Tết")
    this_year = timezone.localdate().year
    named = f"{procedure.code} {procedure.name}"
    reform = "Reform of administrative procedures in"
    pages = [
        (url("procedure_changelist"), "Select procedure to change"),
        (url("procedure_changelist", time_published="no"), "Select procedure to change"),
        (url("procedure_changelist", q="ban"), "Select procedure to change"),
        (
            url("procedure_changelist", status="abolished", level="district", online_level="full"),
            "Select procedure to change",
        ),
        (url("procedure_change", procedure.pk), "Change procedure"),
        (url("procedure_add"), "Add procedure"),
        (url("procedure_amend", procedure.pk), f"Amend {named}"),
        (url("procedure_abolish", procedure.pk), f"Abolish {named}"),
        (url("procedure_reform"), f"{reform} {this_year}"),
        (url("procedure_reform", year="2019"), f"{reform} 2019"),
        (
            url("procedure_reform", year="abc"),
            f"{reform} {this_year}",
        ),
        (url("procedureversion_changelist"), "Select procedure version to view"),
        (url("procedureversion_change", procedure.versions.get().pk), "View procedure version"),
        (url("field_changelist"), "Select field to change"),
        (url("unit_changelist"), "Select unit to change"),
        (url("calendaroverride_changelist"), "Select calendar override to change"),
    ]
    for page, heading in pages:
        response = admin_client.get(page)
        assert response.status_code == 200, page
        assert re.search(r"<h1[^>]*>(.*?)</h1>", response.content.decode(), re.S)[1].strip() == (
            heading
        ), page


def test_changelist_links_to_reform_view_and_filters_unpublished(admin_client, procedure):
    unpublished = ProcedureFactory(unpublished_time=True, name="Thủ tục chưa công bố thời gian")
    response = admin_client.get(url("procedure_changelist", time_published="no"))
    assert url("procedure_reform") in response.content.decode()
    assert list(response.context["cl"].result_list) == [unpublished]


def test_change_form_shows_amend_and_abolish_and_history(admin_client, procedure):
    procedure_amend(
        procedure=procedure,
        changes={"processing_amount": 10},
        decision_number="2/QĐ-UBND",
        decision_date=None,
        effective_from=datetime.date(2019, 7, 1),
    )
    html = admin_client.get(url("procedure_change", procedure.pk)).content.decode()
    assert url("procedure_amend", procedure.pk) in html
    assert url("procedure_abolish", procedure.pk) in html
    assert "2/QĐ-UBND" in html  # the read-only history inline
    assert "15.0 → 10.0" in html


def test_plain_change_form_cannot_change_time_or_fees(admin_client, procedure):
    response = admin_client.get(url("procedure_change", procedure.pk))
    form = response.context["adminform"].form
    assert "processing_amount" not in form.fields
    assert "fee_vnd" not in form.fields
    assert "status" not in form.fields

    data = {
        "code": procedure.code,
        "name": "Cấp Giấy phép bán lẻ rượu (sửa tên)",
        "field": procedure.field_id,
        "level": "province",
        "implementing_unit": procedure.implementing_unit_id,
        "channel_direct": "on",
        "channel_postal": "on",
        "online_level": "none",
        "online_level_text": "",
        "steps": "",
        "applicants": "",
        "conditions": "",
        "result": "",
        "legal_basis": "",
        "source": "",
        # Posted anyway: must be ignored.
        "processing_amount": "1",
        "fee_vnd": "1",
        "status": "abolished",
        "documents-TOTAL_FORMS": "0",
        "documents-INITIAL_FORMS": "0",
        "versions-TOTAL_FORMS": "0",
        "versions-INITIAL_FORMS": "0",
        "process_steps-TOTAL_FORMS": "0",
        "process_steps-INITIAL_FORMS": "0",
    }
    response = admin_client.post(url("procedure_change", procedure.pk), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    procedure.refresh_from_db()
    assert procedure.name == "Cấp Giấy phép bán lẻ rượu (sửa tên)"
    assert procedure.processing_amount == Decimal("15.0")
    assert procedure.fee_vnd == 1_200_000
    assert procedure.status == ProcedureStatus.ACTIVE
    assert procedure.versions.count() == 1


def test_add_through_admin_creates_version_one(admin_client):
    field = FieldFactory()
    unit = UnitFactory()
    data = {
        "code": "2.000777",
        "name": "Thủ tục mới",
        "field": field.pk,
        "level": "province",
        "implementing_unit": unit.pk,
        "channel_direct": "on",
        "online_level": "partial",
        "processing_amount": "12",
        "processing_unit": "working_days",
        "fee_vnd": "500000",
        "decision_number": "77/QĐ-UBND",
        "decision_date": "2024-01-02",
        "version_effective_from": "2024-02-01",
        "documents-TOTAL_FORMS": "1",
        "documents-INITIAL_FORMS": "0",
        "documents-0-order": "1",
        "documents-0-name": "Đơn đề nghị",
        "documents-0-kind": "original",
        "documents-0-copies": "1",
        "documents-0-mandatory": "on",
        "versions-TOTAL_FORMS": "0",
        "versions-INITIAL_FORMS": "0",
        "process_steps-TOTAL_FORMS": "0",
        "process_steps-INITIAL_FORMS": "0",
    }
    response = admin_client.post(url("procedure_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    procedure = Procedure.objects.get(code="2.000777")
    assert procedure.processing_amount == Decimal("12.0")
    assert procedure.documents.get().name == "Đơn đề nghị"
    version = procedure.versions.get()
    assert (version.number, version.kind, version.decision_number) == (
        1,
        ChangeKind.ADDED,
        "77/QĐ-UBND",
    )
    assert version.effective_from == datetime.date(2024, 2, 1)
    assert version.created_by == admin_client.user


def _amend_data(procedure, **overrides):
    return {
        "processing_amount": str(procedure.processing_amount or ""),
        "processing_unit": procedure.processing_unit,
        "online_processing_amount": "",
        "fee_vnd": str(procedure.fee_vnd if procedure.fee_vnd is not None else ""),
        "fee_text": procedure.fee_text,
        "decision_number": "1234/QĐ-UBND",
        "decision_date": "2019-06-15",
        "effective_from": "2019-07-01",
        "note": "",
        **overrides,
    }


def test_amend_via_admin_creates_a_version_and_reform_view_lists_it(admin_client, procedure):
    response = admin_client.post(
        url("procedure_amend", procedure.pk), _amend_data(procedure, processing_amount="10")
    )
    assert response.status_code == 302
    assert response["Location"] == url("procedure_change", procedure.pk)
    version = procedure.versions.get(number=2)
    assert version.kind == ChangeKind.AMENDED
    assert version.changes == {"processing_amount": ["15.0", "10.0"]}
    assert version.created_by == admin_client.user
    procedure.refresh_from_db()
    assert procedure.processing_amount == Decimal("10.0")

    response = admin_client.get(url("procedure_reform", year=2019))
    assert response.status_code == 200
    report = response.context["report"]
    assert [v.procedure for v in report["amended"]] == [procedure]
    html = response.content.decode()
    assert "Cấp Giấy phép bán lẻ rượu" in html
    assert "1234/QĐ-UBND" in html
    assert "15.0 → 10.0" in html
    assert response.context["time_saved"] == [(TimeUnit.WORKING_DAYS.label, Decimal("5.0"))]
    # Another year does not list it.
    assert admin_client.get(url("procedure_reform", year=2020)).context["report"]["amended"] == []


def test_amend_without_change_shows_the_error(admin_client, procedure):
    response = admin_client.post(url("procedure_amend", procedure.pk), _amend_data(procedure))
    assert response.status_code == 200
    assert "changes nothing" in response.content.decode()
    assert procedure.versions.count() == 1


def test_amend_effective_before_current_version_is_a_field_error(admin_client, procedure):
    response = admin_client.post(
        url("procedure_amend", procedure.pk),
        _amend_data(procedure, processing_amount="10", effective_from="2000-01-01"),
    )
    assert response.status_code == 200
    assert "effective_from" in response.context["form"].errors


def test_abolish_via_admin(admin_client, procedure):
    response = admin_client.post(
        url("procedure_abolish", procedure.pk),
        {
            "decision_number": "9/QĐ-UBND",
            "decision_date": "2019-03-01",
            "effective_from": "2019-04-01",
        },
    )
    assert response.status_code == 302
    procedure.refresh_from_db()
    assert procedure.status == ProcedureStatus.ABOLISHED
    assert procedure.versions.get(number=2).kind == ChangeKind.ABOLISHED
    # No amend/abolish links on an abolished procedure, and no second abolition.
    html = admin_client.get(url("procedure_change", procedure.pk)).content.decode()
    assert url("procedure_amend", procedure.pk) not in html
    response = admin_client.post(
        url("procedure_abolish", procedure.pk),
        {"decision_number": "10/QĐ", "effective_from": "2019-05-01"},
    )
    assert response.status_code == 200
    assert procedure.versions.count() == 2


def test_abolish_selected_action_asks_for_the_decision(admin_client):
    procedures = ProcedureFactory.create_batch(3)
    selected = [str(p.pk) for p in procedures[:2]]
    changelist = url("procedure_changelist")
    response = admin_client.post(
        changelist, {"action": "abolish_selected", ACTION_CHECKBOX_NAME: selected}
    )
    assert response.status_code == 200
    assert "decision_number" in response.context["form"].fields
    assert Procedure.objects.filter(status=ProcedureStatus.ABOLISHED).count() == 0

    response = admin_client.post(
        changelist,
        {
            "action": "abolish_selected",
            ACTION_CHECKBOX_NAME: selected,
            "apply": "1",
            "decision_number": "500/QĐ-UBND",
            "decision_date": "2019-03-01",
            "effective_from": "2019-04-01",
        },
    )
    assert response.status_code == 302
    abolished = Procedure.objects.filter(status=ProcedureStatus.ABOLISHED)
    assert {str(p.pk) for p in abolished} == set(selected)
    assert all(p.versions.get(number=2).decision_number == "500/QĐ-UBND" for p in abolished)


def test_amend_selected_action_redirects_to_the_amend_page(admin_client, procedure):
    response = admin_client.post(
        url("procedure_changelist"),
        {"action": "amend_selected", ACTION_CHECKBOX_NAME: [str(procedure.pk)]},
    )
    assert response.status_code == 302
    assert response["Location"] == url("procedure_amend", procedure.pk)


def test_versions_and_procedures_cannot_be_deleted_or_edited(admin_client, procedure):
    version = procedure.versions.get()
    assert admin_client.get(url("procedureversion_delete", version.pk)).status_code == 403
    assert admin_client.get(url("procedure_delete", procedure.pk)).status_code == 403
    assert admin_client.get(reverse("admin:procedures_procedureversion_add")).status_code == 403


def test_staff_without_change_permission_cannot_amend(client, django_user_model, procedure):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_procedure"))
    client.force_login(user)
    assert client.get(url("procedure_amend", procedure.pk)).status_code == 403
    reform = client.get(url("procedure_reform"))
    assert reform.status_code == 200
    assert "Reform of administrative procedures in" in reform.content.decode()


def test_changelist_finds_procedures_without_a_list_of_documents(admin_client, procedure):
    unlisted = ProcedureFactory(name="Thủ tục chưa có thành phần hồ sơ")
    RequiredDocumentFactory(procedure=procedure)  # two documents: still listed once
    response = admin_client.get(url("procedure_changelist", documents="no"))
    assert list(response.context["cl"].result_list) == [unlisted]
    response = admin_client.get(url("procedure_changelist", documents="yes"))
    assert list(response.context["cl"].result_list) == [procedure]


def test_the_documents_inline_takes_the_template_name(admin_client, procedure):
    html = admin_client.get(url("procedure_change", procedure.pk)).content.decode()
    assert 'name="documents-0-template_name"' in html
    assert 'name="documents_source"' in html
