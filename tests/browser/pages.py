"""Steps on portal pages that several browser journeys take."""

from __future__ import annotations

from tests.files import minimal_pdf

PDF = minimal_pdf()  # a real PDF: the upload checks read its structure
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64


def pdf_file(name: str) -> dict:
    return {"name": name, "mimeType": "application/pdf", "buffer": PDF}


def attach_and_submit(page, first, second) -> None:
    """Attach a PDF and a PNG to two required documents, consent, submit, and wait for
    the receipt."""
    page.set_input_files(f"#id_doc_{first.pk}", files=[pdf_file("don-de-nghi.pdf")])
    page.set_input_files(
        f"#id_doc_{second.pk}",
        files=[{"name": "giay-chung-nhan.png", "mimeType": "image/png", "buffer": PNG}],
    )
    page.check("#id_consent")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/bien-nhan/*/")


def send_supplement(look, *, code: str, filename: str, note: str) -> None:
    """On the look-up page: upload the supplement and see it accepted."""
    look.set_input_files("#id_files", files=[pdf_file(filename)])
    look.fill("#id_note", note)
    look.click("form[action$='/bo-sung/'] button[type=submit]")
    look.wait_for_url(f"**/tra-cuu/{code}/")
    assert look.locator(".message-success").count() == 1
