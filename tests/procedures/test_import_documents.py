"""Required documents (thành phần hồ sơ) in the seed and in import_procedures."""

import csv
from pathlib import Path

import pytest
from openpyxl import Workbook

from procedures.catalogue.importing import COLUMNS, DOCUMENT_COLUMNS, procedure_import_file
from procedures.core.constants import DocumentKind, OnlineLevel
from procedures.dossiers.services import Applicant, dossier_register
from procedures.models import DossierDocument, Procedure, RequiredDocument
from tests.commands import run
from tests.files import write_csv

pytestmark = pytest.mark.django_db

FIXTURE = Path(__file__).resolve().parent / "data" / "procedure_documents.csv"
WINE = "Cấp lại Giấy phép bán buôn rượu trên địa bàn tỉnh, thành phố trực thuộc Trung ương"
CARD = "Cấp lại thẻ an toàn điện"


def proc_row(name="Cấp Giấy phép bán lẻ rượu", **values):
    return {
        "name": name,
        "field": "Lưu thông hàng hóa trong nước",
        "processing_days": "10",
        "online_level": "Toàn trình",
        **values,
    }


def doc_row(document_name, procedure_name="Cấp Giấy phép bán lẻ rượu", **values):
    return {"procedure_name": procedure_name, "document_name": document_name, **values}


def listing(procedure):
    return list(
        procedure.documents.order_by("order").values_list(
            "order", "name", "kind", "copies", "mandatory", "template_name"
        )
    )


# --- the seed ---


def test_seed_loads_the_documents_with_template_names_and_sources_idempotently():
    code, out, err = run("seed_catalogue", "--documents", str(FIXTURE))
    assert code == 0, err
    assert "Required documents: 2 list(s) written or changed, 0 unchanged." in out
    wine = Procedure.objects.get(name=WINE)
    assert listing(wine) == [
        (
            1,
            "Văn bản đề nghị cấp lại Giấy phép bán buôn rượu",
            DocumentKind.ORIGINAL,
            1,
            True,
            "Mẫu số 03 Phụ lục Nghị định 105/2017/NĐ-CP",
        ),
        (
            2,
            "Bản gốc hoặc bản sao Giấy phép đã được cấp (nếu có)",
            DocumentKind.ORIGINAL_OR_COPY,
            1,
            False,
            "",
        ),
    ]
    assert wine.documents_source == "https://example.invalid/test-fixture/ban-buon-ruou"
    card = Procedure.objects.get(name=CARD)
    assert [(d.name, d.copies) for d in card.documents.order_by("order")] == [
        ("Văn bản đề nghị cấp lại thẻ an toàn điện", 1),
        ("02 ảnh màu 3x4 cm", 2),
    ]
    assert RequiredDocument.objects.count() == 4
    # The figures of `make run`: online procedures with and without their list.
    assert "Procedures taking online dossiers: 2 with their list of documents" in out

    ids = sorted(RequiredDocument.objects.values_list("pk", flat=True))
    code, out, err = run("seed_catalogue", "--documents", str(FIXTURE))
    assert code == 0, err
    assert "Required documents: 0 list(s) written or changed, 2 unchanged." in out
    assert sorted(RequiredDocument.objects.values_list("pk", flat=True)) == ids


def test_seed_loads_the_bundled_documents_when_they_are_there():
    bundled = Path(__file__).resolve().parents[2] / "procedures" / "data"
    documents = bundled / "procedure_documents.csv"
    if not documents.exists():
        pytest.skip("procedures/data/procedure_documents.csv is not in this checkout")
    with documents.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    code, out, err = run("seed_catalogue")
    assert code == 0, err
    named = {r["procedure_name"] for r in rows}
    assert Procedure.objects.filter(documents__isnull=False).distinct().count() == len(named)
    assert RequiredDocument.objects.count() == len(rows)
    for procedure in Procedure.objects.filter(name__in=named):
        assert procedure.documents_source.startswith("http"), procedure.name


# --- import_procedures: a second CSV file, or a second sheet ---


def test_import_takes_a_csv_list_of_documents_and_replaces_a_list_in_place(tmp_path):
    procedures = write_csv(tmp_path / "list.csv", [proc_row()], COLUMNS)
    documents = write_csv(
        tmp_path / "docs.csv",
        [
            doc_row("Đơn đề nghị", order="1", kind="bản chính", template="Mẫu số 01"),
            doc_row(
                "Bản sao Giấy chứng nhận đăng ký doanh nghiệp",
                order="2",
                kind="bản sao có chứng thực",
                copies="2",
            ),
            doc_row("Giấy ủy quyền", order="3", mandatory="0"),
        ],
        DOCUMENT_COLUMNS,
    )
    code, out, err = run("import_procedures", str(procedures), "--documents", str(documents))
    assert code == 0, err
    wine = Procedure.objects.get(name="Cấp Giấy phép bán lẻ rượu")
    assert listing(wine) == [
        (1, "Đơn đề nghị", DocumentKind.ORIGINAL, 1, True, "Mẫu số 01"),
        (
            2,
            "Bản sao Giấy chứng nhận đăng ký doanh nghiệp",
            DocumentKind.CERTIFIED_COPY,
            2,
            True,
            "",
        ),
        (3, "Giấy ủy quyền", DocumentKind.ORIGINAL, 1, False, ""),
    ]
    form = wine.documents.get(order=1)
    dossier, _pin = dossier_register(
        procedure=wine,
        channel=2,
        actor=None,
        applicant=Applicant(type="individual", name="Hoàng Văn Dũng", id_number="001099012345"),
    )
    answered = DossierDocument.objects.create(
        dossier=dossier,
        slot=form,
        original_name="don.pdf",
        size=1,
        content_type="a/b",
        sha256="0" * 64,
        token="t",
        file="x",
    )

    # A new decision: the form changes its template, the power of attorney goes.
    write_csv(
        documents,
        [
            doc_row("Đơn đề nghị", order="1", template="Mẫu số 01 (sửa đổi)"),
            doc_row(
                "Bản sao Giấy chứng nhận đăng ký doanh nghiệp",
                order="2",
                kind="certified_copy",
                copies="2",
            ),
        ],
        DOCUMENT_COLUMNS,
    )
    code, out, err = run("import_procedures", str(procedures), "--documents", str(documents))
    assert code == 0, err
    assert "Required documents: 1 list(s) written or changed, 0 unchanged." in out
    assert [d[1] for d in listing(wine)] == [
        "Đơn đề nghị",
        "Bản sao Giấy chứng nhận đăng ký doanh nghiệp",
    ]
    # The form kept its id, so the file a dossier gave for it still answers it.
    assert wine.documents.get(order=1).pk == form.pk
    answered.refresh_from_db()
    assert answered.slot_id == form.pk
    assert wine.documents.get(order=1).template_name == "Mẫu số 01 (sửa đổi)"


def test_bad_document_rows_are_reported_with_their_row_numbers_and_lists_kept(tmp_path):
    procedures = write_csv(
        tmp_path / "list.csv", [proc_row(), proc_row(name="Cấp Giấy phép bán lẻ thuốc lá")], COLUMNS
    )
    documents = write_csv(
        tmp_path / "docs.csv",
        [
            doc_row("Đơn đề nghị", order="1"),  # row 2: good
            doc_row("Bản sao giấy phép", order="2", kind="photocopy"),  # row 3: bad kind
            doc_row(
                "Đơn", procedure_name="Cấp Giấy phép bán lẻ thuốc lá", copies="0"
            ),  # row 4: bad copies
            doc_row("Đơn", procedure_name="Thủ tục không có trong danh sách"),  # row 5: unknown
            doc_row(
                "", procedure_name="Cấp Giấy phép bán lẻ thuốc lá", mandatory="maybe"
            ),  # row 6: two problems
        ],
        DOCUMENT_COLUMNS,
    )
    code, out, err = run("import_procedures", str(procedures), "--documents", str(documents))
    assert code == 1
    assert "Created: 2" in out
    assert (
        'Documents row 3 rejected (Cấp Giấy phép bán lẻ rượu): kind "photocopy" is not one of'
        in err
    )
    assert "Documents row 4 rejected" in err and "copies" in err
    assert (
        "Documents row 5 rejected (Thủ tục không có trong danh sách): no procedure is named "
        '"Thủ tục không có trong danh sách"'
    ) in err
    assert "Documents row 6 rejected" in err
    assert "document_name is empty" in err and 'mandatory "maybe" is not 1 or 0' in err
    assert "Documents row 2" not in err
    # A half list never reaches the portal: the procedure with a bad row keeps none.
    assert RequiredDocument.objects.count() == 0
    assert "4 row(s) rejected" in err


def test_a_documents_file_without_its_columns_is_refused_before_anything(tmp_path):
    procedures = write_csv(tmp_path / "list.csv", [proc_row()], COLUMNS)
    documents = write_csv(tmp_path / "docs.csv", [{"name": "Đơn"}], ["name", "kind"])
    code, out, err = run("import_procedures", str(procedures), "--documents", str(documents))
    assert code == 1
    assert "The file has no column document_name" in err
    assert Procedure.objects.count() == 0


def test_an_xlsx_list_carries_its_documents_on_a_second_sheet(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Thủ tục"
    sheet.append(list(COLUMNS))
    sheet.append(
        [
            2.000633,
            "Cấp Giấy phép bán lẻ rượu",
            "Lưu thông hàng hóa trong nước",
            10,
            1200000,
            "Mức độ 4 (Đà Nẵng)",
            "",
            "",
            "",
        ]
    )
    docs = workbook.create_sheet("documents")
    docs.append(list(DOCUMENT_COLUMNS))
    docs.append(["", 2.000633, 1, "Đơn đề nghị", "original", 1, 1, "Mẫu số 01", "https://a.vn"])
    docs.append(["", 2.000633, 2, "Bản sao đăng ký kinh doanh", "copy", 1, "", "", ""])
    docs.append(["", 2.000633, 3, "Giấy tờ khác", "copy", "một", 1, "", ""])
    path = tmp_path / "list.xlsx"
    workbook.save(path)

    report = procedure_import_file(path=path)
    assert report.created == 1
    assert [(r.sheet, r.row) for r in report.rejected] == [("documents", 4)]
    assert "copies" in report.rejected[0].reason
    assert RequiredDocument.objects.count() == 0

    docs.delete_rows(4)
    workbook.save(path)
    report = procedure_import_file(path=path)
    assert report.ok and report.documents_set == 1
    wine = Procedure.objects.get(code="2.000633")
    assert listing(wine) == [
        (1, "Đơn đề nghị", DocumentKind.ORIGINAL, 1, True, "Mẫu số 01"),
        (2, "Bản sao đăng ký kinh doanh", DocumentKind.COPY, 1, True, ""),
    ]
    assert wine.documents_source == "https://a.vn"
    assert (wine.online_level, wine.online_level_text) == (OnlineLevel.FULL, "")


def test_a_procedure_absent_from_the_documents_file_keeps_its_list(tmp_path):
    procedures = write_csv(
        tmp_path / "list.csv", [proc_row(), proc_row(name="Cấp Giấy phép bán lẻ thuốc lá")], COLUMNS
    )
    documents = write_csv(
        tmp_path / "docs.csv",
        [
            doc_row("Đơn đề nghị"),
            doc_row("Đơn", procedure_name="Cấp Giấy phép bán lẻ thuốc lá"),
        ],
        DOCUMENT_COLUMNS,
    )
    procedure_import_file(path=procedures, documents_path=documents)
    write_csv(documents, [doc_row("Đơn đề nghị")], DOCUMENT_COLUMNS)
    report = procedure_import_file(path=procedures, documents_path=documents)
    assert (report.documents_set, report.documents_unchanged) == (0, 1)
    assert Procedure.objects.get(name="Cấp Giấy phép bán lẻ thuốc lá").documents.count() == 1
