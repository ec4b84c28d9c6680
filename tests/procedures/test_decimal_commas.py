"""Decimal commas in Vietnamese (94,1 %) in the report table, its charts, the public
statistics and the PDF, from one helper; no "None" for a procedure without a code."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from procedures.core.formatting import percent
from procedures.dossiers import services as svc
from tests.factories import ProcedureFactory

from .conftest import at

pytestmark = pytest.mark.django_db

NBSP = "\u00a0"


def test_one_helper_follows_the_language():
    with translation.override("vi"):
        assert percent(94.1176) == f"94,1{NBSP}%"
        assert percent(94.1176, sign=False) == "94,1"
        assert percent(50, digits=0) == f"50{NBSP}%"
        assert percent(None) == "–"
    with translation.override("en"):
        assert percent(94.1176) == "94.1%"
    assert percent(60, language="vi") == f"60,0{NBSP}%"


def test_report_table_and_charts_write_decimal_commas(june, staff, vietnamese):  # noqa: F811
    client = Client()
    client.force_login(staff["director"])
    html = client.get(
        reverse("admin:procedures_report"), {"period": "2026-06", "by": "field"}
    ).content.decode()
    charts = "".join(re.findall(r'<svg[^>]*class="report-chart".*?</svg>', html, re.S))
    labels = re.findall(r">([^<>]*%[^<>]*)<", charts)
    assert labels, charts[:500]
    for label in labels:
        assert not re.search(r"\d\.\d", label), label  # 66.7% would be English
    assert re.search(rf"\d+,\d{NBSP}% \(\d+\)", charts)  # a bar: "60,0 % (5)"
    assert f"100{NBSP}%" in charts  # the axis of the trend chart
    table = html.split('id="report-table"', 1)[1].split("</table>", 1)[0]
    assert re.search(r'data-column="on_time_rate">\d+,\d<', table)
    assert not re.search(r'data-column="on_time_rate">\d+\.\d<', table)


def test_no_none_before_a_procedure_without_a_code(register, staff, vietnamese):
    uncoded = ProcedureFactory(code=None, name="Thủ tục nội bộ chưa có mã")
    d = register(now=at(2026, 6, 2, 9, 0), procedure=uncoded)
    svc.dossier_accept(dossier=d, actor=staff["intake"], now=at(2026, 6, 2, 9, 0))
    client = Client()
    client.force_login(staff["director"])
    html = client.get(
        reverse("admin:procedures_report_cell"),
        {
            "period": "2026-06",
            "by": "procedure",
            "row": "total",
            "column": "received",
        },
    ).content.decode()
    assert "Thủ tục nội bộ chưa có mã" in html
    assert "None" not in html


def test_the_report_page_gives_the_table_the_whole_width(june, staff):  # noqa: F811
    """Checked in Chromium at 1440 px: with the sidebar the last columns were cut off."""
    client = Client()
    client.force_login(staff["director"])
    html = client.get(reverse("admin:procedures_report"), {"period": "2026-06"}).content.decode()
    assert 'id="report-table"' in html
    assert 'id="nav-sidebar"' not in html
