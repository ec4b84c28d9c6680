"""Bulk assignment and answers from XLSX."""

from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from dialogues import services
from dialogues.constants import AnswerState, RecommendationStatus
from dialogues.models import Recommendation
from procedures.core.errors import DomainError
from tests.dialogues_factories import FieldFactory, RecommendationFactory, UnitFactory, local

pytestmark = pytest.mark.django_db


def sheet(rows, header=("id", "unit_code", "field", "answer", "answer_kind", "document_number")):
    workbook = Workbook()
    ws = workbook.active
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    buffer = BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile("kien-nghi.xlsx", buffer.getvalue())


@pytest.fixture
def setup(db):
    unit = UnitFactory(code="QLTM", name="Phòng Quản lý thương mại")
    field = FieldFactory(name="Xăng dầu", ministry_code="G02-CT10")
    a, b = RecommendationFactory(), RecommendationFactory()
    return unit, field, a, b


def test_assigns_and_submits_answers_for_approval(setup, staff):
    unit, field, a, b = setup
    upload = sheet(
        [
            (a.pk, "qltm", "G02-CT10", "", "", ""),
            (b.pk, "QLTM", "Xăng dầu", "Sở đã có văn bản hướng dẫn.", "in_writing", "45/SCT"),
        ]
    )
    result = services.recommendation_import_xlsx(upload=upload, by=staff, now=local(2026, 3, 4, 9))
    assert result.errors == []
    assert (result.assigned, result.answered) == (2, 1)
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.status == b.status == RecommendationStatus.ASSIGNED
    assert a.unit == unit and a.field == field
    assert b.answer_state == AnswerState.PENDING_APPROVAL
    assert b.answer_document_number == "45/SCT"
    assert b.published_at is None  # an import never publishes


def test_one_bad_row_rejects_the_whole_file(setup, staff):
    unit, field, a, b = setup
    upload = sheet(
        [
            (a.pk, "QLTM", "", "", "", ""),
            (b.pk, "NOPE", "", "", "", ""),
            (99999, "QLTM", "", "", "", ""),
            ("abc", "", "", "", "", ""),
        ]
    )
    result = services.recommendation_import_xlsx(upload=upload, by=staff)
    assert result.errors == [
        "Row 3: unknown unit code.",
        "Row 5: the id is not a number.",
        "Row 4: no recommendation #99999.",
    ]
    assert not Recommendation.objects.filter(status=RecommendationStatus.ASSIGNED).exists()


def test_a_rule_broken_midway_rolls_everything_back(setup, staff):
    unit, field, a, b = setup
    services.recommendation_forward(recommendation_id=b.pk, authority="Cục Thuế", by=staff)
    result = services.recommendation_import_xlsx(
        upload=sheet([(a.pk, "QLTM", "", "", "", ""), (b.pk, "QLTM", "", "", "", "")]), by=staff
    )
    assert result.errors and result.assigned == 0
    a.refresh_from_db()
    assert a.status == RecommendationStatus.RECEIVED


def test_not_an_xlsx_file(staff):
    upload = SimpleUploadedFile("x.xlsx", b"id,unit_code\n1,QLTM\n")
    with pytest.raises(DomainError) as err:
        services.recommendation_import_xlsx(upload=upload, by=staff)
    assert err.value.field == "file"


def test_too_large_is_refused_before_parsing(staff, settings):
    settings.DIALOGUE_IMPORT_MAX_BYTES = 10
    with pytest.raises(DomainError, match="too large"):
        services.recommendation_import_xlsx(upload=sheet([(1, "QLTM")]), by=staff)


def test_import_page_and_template_round_trip(setup, staff, client):
    unit, field, a, b = setup
    client.force_login(staff)
    response = client.get(reverse("dialogues:staff-import-template"))
    assert response.status_code == 200
    rows = list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0][:6] == ("id", "unit_code", "field", "answer", "answer_kind", "document_number")
    assert {r[0] for r in rows[1:]} == {a.pk, b.pk}
    response = client.post(
        reverse("dialogues:staff-import"), {"file": sheet([(a.pk, "QLTM", "", "", "", "")])}
    )
    assert response.status_code == 302
    a.refresh_from_db()
    assert a.unit == unit
