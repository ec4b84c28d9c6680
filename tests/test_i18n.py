"""Vietnamese is the default language, English the second, both shipped compiled."""

from pathlib import Path

import polib
import pytest
from django.conf import settings as django_settings
from django.utils import translation

from procedures.core.constants import DossierStatus
from procedures.core.errors import DomainError

LOCALE = Path(django_settings.BASE_DIR) / "locale"


def test_production_default_is_vietnamese():
    from config.settings import base

    assert base.LANGUAGE_CODE == "vi"
    assert [code for code, _ in base.LANGUAGES] == ["vi", "en"]


@pytest.mark.parametrize("language", ["vi", "en"])
def test_catalogues_are_compiled_and_current(language):
    po = LOCALE / language / "LC_MESSAGES" / "django.po"
    mo = LOCALE / language / "LC_MESSAGES" / "django.mo"
    assert po.exists() and mo.exists()
    compiled = {e.msgid for e in polib.mofile(str(mo))}
    source = {e.msgid for e in polib.pofile(str(po)) if not e.obsolete and e.msgid}
    if language == "vi":
        assert source <= compiled, "run compilemessages"


def test_every_vietnamese_string_is_translated():
    po = polib.pofile(str(LOCALE / "vi" / "LC_MESSAGES" / "django.po"))
    missing = [e.msgid for e in po if not e.obsolete and (not e.translated() or "fuzzy" in e.flags)]
    assert missing == []


def test_status_labels_and_domain_errors_follow_the_active_language():
    with translation.override("vi"):
        assert str(DossierStatus.FINISHED.label) == "Đã xử lý xong"
        from django.core.exceptions import ValidationError

        from procedures.core.validators import validate_citizen_id

        with pytest.raises(ValidationError) as err:
            validate_citizen_id("123")
        assert "12 chữ số" in err.value.messages[0]
    with translation.override("en"):
        assert str(DossierStatus.FINISHED.label) == "Processed"
    assert issubclass(DomainError, Exception)


@pytest.mark.django_db
def test_public_pages_are_vietnamese_first_with_english_under_en(client, vietnamese):
    home = client.get("/")
    assert home.status_code == 200
    assert home["Content-Language"] == "vi"
    assert '<html lang="vi">' in home.content.decode()
    english = client.get("/en/")
    assert english.status_code == 200
    assert english["Content-Language"] == "en"


@pytest.mark.django_db
def test_admin_login_is_vietnamese(client, vietnamese):
    page = client.get("/admin/login/")
    assert page.status_code == 200
    assert "Đăng nhập" in page.content.decode()
