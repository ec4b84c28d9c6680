"""The staff interface in Vietnamese throughout: Django admin strings its own Vietnamese
catalogue lacks, the selector widget's JavaScript catalogue, day-first dates, file
sizes, the favicon, and the dialogue staff pages inside the admin."""

import datetime
import json
import re

import pytest
from django import forms
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import translation

from procedures.models import CalendarOverride

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(vietnamese) -> Client:
    user = get_user_model().objects.create_superuser("giamdoc", "gd@example.gov.vn", "pw")
    client = Client()
    client.force_login(user)
    return client


def test_the_error_banner_is_vietnamese(boss):
    """Django 5 asks for a plural form its Vietnamese admin catalogue does not have."""
    response = boss.post(reverse("admin:procedures_calendaroverride_add"), {"reason": ""})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Vui lòng sửa các lỗi dưới đây." in html
    assert "Please correct" not in html


def test_the_selector_widget_catalogue_is_vietnamese(boss):
    js = boss.get(reverse("admin:jsi18n")).content.decode()
    for text in ("Chọn tất cả %s", "Bỏ tất cả %s", "Chọn các %s đã đánh dấu", "Chủ nhật"):
        assert json.dumps(text) in js, text  # the catalogue is JSON, \u-escaped
    # The calendar writes the first input format: day first.
    assert re.search(r'"DATE_INPUT_FORMATS": \[\s*"%d/%m/%Y"', js)
    assert re.search(r'"DECIMAL_SEPARATOR": ","', js)


def test_dates_are_typed_day_first(boss):
    with translation.override("vi"):
        assert forms.DateField().clean("05/06/2026") == datetime.date(2026, 6, 5)
        assert forms.DateField().clean("25/06/2026") == datetime.date(2026, 6, 25)
        assert forms.DateField().clean("2026-06-25") == datetime.date(2026, 6, 25)
    response = boss.post(
        reverse("admin:procedures_calendaroverride_add"),
        {"date": "02/09/2026", "is_working": "", "reason": "Quốc khánh"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert CalendarOverride.objects.get().date == datetime.date(2026, 9, 2)


def test_english_admin_reads_day_first_too():
    with translation.override("en"):
        assert forms.DateField().clean("05/06/2026") == datetime.date(2026, 6, 5)


def test_the_favicon_is_ours_on_public_and_staff_pages(boss):
    public = Client().get("/").content.decode()
    staff = boss.get(reverse("admin:index")).content.decode()
    for html in (public, staff):
        assert '<link rel="icon" href="/static/favicon.ico" sizes="any">' in html
        assert 'href="/static/favicon.svg" type="image/svg+xml"' in html
    response = Client().get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == "/static/favicon.ico"


@pytest.mark.parametrize("name", ["staff-recommendations", "staff-import", "staff-report"])
def test_dialogue_staff_pages_live_in_the_admin(boss, name):
    html = boss.get(reverse(f"dialogues:{name}")).content.decode()
    assert 'id="site-name"' in html and 'class="breadcrumbs"' in html
    assert reverse("admin:app_list", kwargs={"app_label": "dialogues"}) in html
    assert 'class="site-header"' not in html  # not the public layout
    assert 'id="user-tools"' in html
