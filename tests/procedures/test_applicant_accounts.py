"""Applicant accounts (issue 12 item 2): OpenID Connect sign-in against a local
provider (tests/oidc_provider.py) through the real authorisation code flow, the
refusals, "my dossiers", the pre-filled form, and the reuse of earlier files."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import translation
from joserfc.jwk import RSAKey

from procedures.accounts.models import ApplicantAccount, ApplicantDossier
from procedures.accounts.oidc import oidc_enabled
from procedures.core.constants import Channel
from procedures.dossiers.services import Applicant, UploadedDocument, dossier_register
from procedures.models import Dossier, DossierDocument
from tests.dialogues_factories import valid_tax_code
from tests.files import minimal_pdf
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, LocalProvider
from tests.procedures.test_portal_submission import PNG, form_data, slots, upload
from tests.procedures.test_portal_submission import online_procedure as _online_procedure

pytestmark = pytest.mark.django_db
online_procedure = _online_procedure

CITIZEN = {
    "sub": "vneid-0001",
    "name": "Nguyễn  Thị Bình",
    "email": "binh@example.com",
    "phone_number": "0912 345 678",
    "identity_number": "001199012345",
}


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def provider(settings):
    p = LocalProvider().start()
    p.redirect_uris.add("http://testserver/oidc/callback/")
    p.claims = dict(CITIZEN)
    settings.OIDC_ISSUER = p.issuer
    settings.OIDC_CLIENT_ID = CLIENT_ID
    settings.OIDC_CLIENT_SECRET = CLIENT_SECRET
    yield p
    p.stop()


def start(client: Client, next_url: str | None = None) -> str:
    """Our sign-in view, then the provider's /authorize: the callback URL it sends to."""
    response = client.get(reverse("accounts:sign-in"), {"next": next_url} if next_url else {})
    assert response.status_code == 302
    at_provider = requests.get(response["Location"], allow_redirects=False, timeout=5)
    assert at_provider.status_code == 302, at_provider.text
    return at_provider.headers["Location"]


def finish(client: Client, callback_url: str, **extra):
    parts = urlsplit(callback_url)
    assert parts.path == "/oidc/callback/"
    return client.get(f"{parts.path}?{parts.query}", **extra)


def sign_in(client: Client, next_url: str | None = None):
    return finish(client, start(client, next_url))


# ------------------------------------------------------------------ sign-in


def test_sign_in_runs_the_code_flow_and_creates_the_account(client, provider):
    callback_url = start(client)
    query = parse_qs(urlsplit(callback_url).query)
    assert set(query) == {"code", "state"}

    response = finish(client, callback_url)

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:my-dossiers")
    assert provider.token_requests == 1
    account = ApplicantAccount.objects.get()
    assert (account.issuer, account.subject) == (provider.issuer, "vneid-0001")
    assert account.name == "Nguyễn Thị Bình"
    assert account.email == "binh@example.com"
    assert account.phone == "0912345678"
    assert account.id_number == "001199012345"
    assert account.tax_code == ""
    page = client.get(reverse("accounts:my-dossiers"))
    assert page.status_code == 200
    assert "Signed in as Nguyễn Thị Bình" in page.content.decode()
    assert "No dossier in your account yet." in page.content.decode()


def test_the_authorisation_request_carries_state_nonce_and_pkce(client, provider):
    response = client.get(reverse("accounts:sign-in"))
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == ["http://testserver/oidc/callback/"]
    assert query["scope"] == ["openid profile email phone"]
    assert query["code_challenge_method"] == ["S256"]
    assert query["state"][0] and query["nonce"][0]


def test_signing_in_again_updates_the_same_account(client, provider):
    sign_in(client)
    provider.claims = {**CITIZEN, "email": "binh.moi@example.com"}
    other_browser = Client()
    sign_in(other_browser)
    account = ApplicantAccount.objects.get()
    assert account.email == "binh.moi@example.com"


def test_claims_the_form_would_refuse_are_not_kept(client, provider):
    provider.claims = {
        "sub": "vneid-0002",
        "name": "Công ty TNHH Ánh Dương",
        "phone_number": "12345",
        "identity_number": "123",
        "tax_code": valid_tax_code(10_000_100),
    }
    sign_in(client)
    account = ApplicantAccount.objects.get()
    assert (account.phone, account.id_number) == ("", "")
    assert account.tax_code == valid_tax_code(10_000_100)


def test_an_applicant_is_never_a_user_and_gets_no_staff_access(client, provider):
    response = sign_in(client)
    assert response.status_code == 302
    assert get_user_model().objects.count() == 0
    assert not response.wsgi_request.user.is_authenticated
    admin = client.get(reverse("admin:index"))
    assert admin.status_code == 302
    assert admin["Location"].startswith(reverse("admin:login"))


def test_next_page_is_kept_but_never_another_site(client, provider):
    procedure_page = reverse("procedures:procedure-list")
    assert sign_in(client, procedure_page)["Location"] == procedure_page
    other = Client()
    assert sign_in(other, "https://evil.example/")["Location"] == reverse("accounts:my-dossiers")


def test_signing_out_forgets_the_applicant(client, provider):
    sign_in(client)
    response = client.post(reverse("accounts:sign-out"))
    assert response.status_code == 302
    page = client.get(reverse("accounts:my-dossiers"))
    assert page.status_code == 302
    assert page["Location"].startswith(reverse("accounts:sign-in"))


# ------------------------------------------------------------------ refusals


def refused(response, text: str) -> None:
    assert response.status_code == 400
    assert text in response.content.decode()
    assert ApplicantAccount.objects.count() == 0
    assert "applicant_account_id" not in response.wsgi_request.session


def test_a_token_signed_with_another_key_is_refused(client, provider):
    provider.sign_with = RSAKey.generate_key(2048, parameters={"kid": "test-key-1"}, private=True)
    refused(sign_in(client), "The identity token&#x27;s signature is not valid")


def test_a_token_altered_after_signing_is_refused(client, provider):
    provider.tamper = {"sub": "someone-else"}
    refused(sign_in(client), "The identity token&#x27;s signature is not valid")


def test_a_token_from_an_unknown_issuer_is_refused(client, provider):
    provider.issuer_claim = "https://idp.example.net"
    refused(sign_in(client), "The identity token comes from an unknown issuer.")


def test_a_token_for_another_sign_in_is_refused_by_its_nonce(client, provider):
    provider.nonce_claim = "not-the-nonce-we-sent"
    refused(sign_in(client), "its nonce does not match")


def test_a_wrong_state_is_refused_before_the_code_is_used(client, provider):
    callback_url = start(client)
    parts = urlsplit(callback_url)
    code = parse_qs(parts.query)["code"][0]
    response = client.get(parts.path, {"code": code, "state": "forged-state"})
    refused(response, "its state does not match")
    assert provider.token_requests == 0


def test_a_callback_replayed_in_another_browser_is_refused(client, provider):
    callback_url = start(client)
    refused(finish(Client(), callback_url), "its state does not match")


def test_the_provider_refusing_is_said_plainly(client, provider):
    start(client)
    state = next(k for k in client.session.keys() if k.startswith("_state_"))
    response = client.get(
        "/oidc/callback/", {"error": "access_denied", "state": state.split("_", 3)[-1]}
    )
    refused(response, "The identity provider did not sign you in (access_denied).")


def test_the_refusal_is_in_the_language_the_sign_in_started_in(client, provider):
    provider.issuer_claim = "https://idp.example.net"
    with translation.override("vi"):
        callback_url = start(client)
    response = finish(client, callback_url)
    refused(response, "Mã xác thực danh tính đến từ một nhà cung cấp không được công nhận")
    assert '<html lang="vi">' in response.content.decode()


# ------------------------------------------------------------------ configuration


def test_without_settings_sign_in_is_off_and_its_button_hidden(client, settings):
    settings.OIDC_ISSUER = ""
    assert not oidc_enabled()
    assert client.get(reverse("accounts:sign-in")).status_code == 404
    assert client.get("/oidc/callback/").status_code == 404
    assert 'id="nav-sign-in"' not in client.get(reverse("procedures:home")).content.decode()


def test_with_settings_the_button_is_shown(client, provider, settings):
    settings.OIDC_PROVIDER_NAME = "VNeID"
    page = client.get(reverse("procedures:home")).content.decode()
    assert 'id="nav-sign-in"' in page
    assert "Sign in with VNeID" in page


def test_explicit_endpoints_work_without_discovery(client, provider, settings):
    settings.OIDC_AUTHORIZATION_ENDPOINT = f"{provider.issuer}/authorize"
    settings.OIDC_TOKEN_ENDPOINT = f"{provider.issuer}/token"
    settings.OIDC_JWKS_URI = f"{provider.issuer}/jwks"
    settings.OIDC_DISCOVERY_URL = "http://127.0.0.1:9/nothing-here"  # must not be read
    assert sign_in(client).status_code == 302
    assert ApplicantAccount.objects.get().subject == "vneid-0001"


# ------------------------------------------------------------------ my dossiers


def register_dossier(procedure, *, name="Trần Văn An", id_number="001199054321"):
    first, second, _optional = slots(procedure)
    return dossier_register(
        procedure=procedure,
        applicant=Applicant(
            type="individual", name=name, id_number=id_number, email="an@example.com"
        ),
        channel=Channel.ONLINE,
        documents=[
            UploadedDocument(
                slot_id=first.pk,
                name="don.pdf",
                content=minimal_pdf(),
                content_type="application/pdf",
            ),
            UploadedDocument(
                slot_id=second.pk, name="gcn.png", content=PNG, content_type="image/png"
            ),
        ],
    )


def test_a_new_dossier_is_linked_to_its_account_in_one_insert(online_procedure):
    """Registered for a signed-in applicant, the dossier is theirs in the same
    transaction: one insert, no look-up of an earlier link and no savepoint (nobody
    else can see a dossier that is not committed yet)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    now = timezone.now()
    account = ApplicantAccount.objects.create(
        issuer="https://id.example", subject="vneid-9", created_at=now, last_sign_in_at=now
    )
    first, second, _optional = slots(online_procedure)
    with CaptureQueriesContext(connection) as captured:
        dossier, _pin = dossier_register(
            procedure=online_procedure,
            applicant=Applicant(
                type="individual", name="Trần Văn An", id_number="001199054321", email="a@b.vn"
            ),
            channel=Channel.ONLINE,
            documents=[
                UploadedDocument(slot_id=first.pk, name="don.pdf", content=minimal_pdf()),
                UploadedDocument(slot_id=second.pk, name="gcn.png", content=PNG),
            ],
            account=account,
        )
    table = ApplicantDossier._meta.db_table
    touching = [q["sql"] for q in captured.captured_queries if table in q["sql"]]
    assert len(touching) == 1 and touching[0].startswith("INSERT")
    assert not any("SAVEPOINT" in q["sql"] for q in captured.captured_queries[1:-1])
    link = ApplicantDossier.objects.get()
    assert (link.account, link.dossier, link.claimed) == (account, dossier, False)


def test_my_dossiers_needs_a_signed_in_applicant(client):
    response = client.get(reverse("accounts:my-dossiers"))
    assert response.status_code == 302
    assert response["Location"] == (
        f"{reverse('accounts:sign-in')}?next={reverse('accounts:my-dossiers').replace('/', '%2F')}"
    )


def test_the_form_is_pre_filled_and_the_dossier_lands_in_my_dossiers(
    client, provider, online_procedure
):
    sign_in(client)
    url = reverse("procedures:submit", args=[online_procedure.pk])
    form = client.get(url).context["form"]
    assert form.initial["applicant_name"] == "Nguyễn Thị Bình"
    assert form.initial["email"] == "binh@example.com"
    assert form.initial["phone"] == "0912345678"
    assert form.initial["id_number"] == "001199012345"
    page = client.get(url).content.decode()
    assert 'value="001199012345"' in page

    response = client.post(url, form_data(online_procedure))
    assert response.status_code == 302
    dossier = Dossier.objects.get()
    link = ApplicantDossier.objects.get()
    assert (link.dossier, link.account.subject, link.claimed) == (dossier, "vneid-0001", False)

    listing = client.get(reverse("accounts:my-dossiers")).content.decode()
    assert dossier.code in listing
    assert online_procedure.name in listing


def test_a_business_account_pre_fills_the_tax_code(client, provider, online_procedure):
    provider.claims = {
        "sub": "dn-1",
        "name": "Công ty TNHH Ánh Dương",
        "tax_code": valid_tax_code(10_000_300),
    }
    sign_in(client)
    form = client.get(reverse("procedures:submit", args=[online_procedure.pk])).context["form"]
    assert form.initial["applicant_type"] == "organisation"
    assert form.initial["id_number"] == valid_tax_code(10_000_300)


def test_a_dossier_of_mine_opens_without_its_pin(client, provider, online_procedure):
    sign_in(client)
    client.post(
        reverse("procedures:submit", args=[online_procedure.pk]), form_data(online_procedure)
    )
    dossier = Dossier.objects.get()
    fresh = Client()  # a later visit: no receipt cookie, no look-up grant
    sign_in(fresh)
    assert fresh.get(reverse("procedures:lookup-dossier", args=[dossier.code])).status_code == 302
    response = fresh.get(reverse("accounts:open-dossier", args=[dossier.code]))
    assert response["Location"] == reverse("procedures:lookup-dossier", args=[dossier.code])
    status_page = fresh.get(response["Location"])
    assert status_page.status_code == 200
    assert dossier.code in status_page.content.decode()

    fresh.post(reverse("accounts:sign-out"))
    assert fresh.get(reverse("procedures:lookup-dossier", args=[dossier.code])).status_code == 302


def test_another_applicants_dossier_does_not_open(client, provider, online_procedure):
    dossier, _pin = register_dossier(online_procedure)
    sign_in(client)
    assert client.get(reverse("accounts:open-dossier", args=[dossier.code])).status_code == 404
    assert dossier.code not in client.get(reverse("accounts:my-dossiers")).content.decode()


def test_an_earlier_dossier_is_claimed_once_with_code_and_pin(client, provider, online_procedure):
    dossier, pin = register_dossier(online_procedure)
    sign_in(client)
    claim = reverse("accounts:my-dossiers")

    wrong = client.post(claim, {"code": dossier.code, "pin": "00000000"})
    assert wrong.status_code == 400
    assert "The dossier code or the PIN is not correct." in wrong.content.decode()
    assert not ApplicantDossier.objects.exists()

    response = client.post(claim, {"code": dossier.code, "pin": pin})
    assert response.status_code == 302
    link = ApplicantDossier.objects.get()
    assert (link.dossier, link.claimed) == (dossier, True)
    assert dossier.code in client.get(claim).content.decode()

    provider.claims = {**CITIZEN, "sub": "vneid-0099"}
    intruder = Client()
    sign_in(intruder)
    again = intruder.post(claim, {"code": dossier.code, "pin": pin})
    assert again.status_code == 400
    assert "This dossier is already in another account." in again.content.decode()
    assert ApplicantDossier.objects.get().account.subject == "vneid-0001"


# ------------------------------------------------------------------ reusing files


def reuse_data(procedure, first_file_id):
    first, second, _optional = slots(procedure)
    data = form_data(procedure, **{f"doc_{first.pk}": None})
    data[f"reuse_doc_{first.pk}"] = str(first_file_id)
    return data


def test_a_file_of_an_earlier_dossier_is_copied_into_the_new_one(
    client, provider, online_procedure
):
    earlier, _pin = register_dossier(online_procedure)
    sign_in(client)
    client.post(reverse("accounts:my-dossiers"), {"code": earlier.code, "pin": _pin})
    first = slots(online_procedure)[0]
    old = earlier.documents.get(slot=first)
    url = reverse("procedures:submit", args=[online_procedure.pk])
    page = client.get(url).content.decode()
    assert f'name="reuse_doc_{first.pk}"' in page
    assert f"don.pdf (dossier {earlier.code})" in page

    response = client.post(url, reuse_data(online_procedure, old.pk))

    assert response.status_code == 302, response.context["form"].errors
    new = Dossier.objects.exclude(pk=earlier.pk).get()
    copy = new.documents.get(slot=first)
    assert (copy.sha256, copy.size, copy.original_name) == (old.sha256, old.size, "don.pdf")
    assert copy.file.name != old.file.name
    with copy.file.open("rb") as fh:
        assert fh.read() == minimal_pdf()


def test_a_file_of_another_applicant_is_refused(client, provider, online_procedure):
    mine, my_pin = register_dossier(online_procedure)
    theirs, _ = register_dossier(online_procedure, name="Lê Văn C", id_number="001199099999")
    sign_in(client)
    client.post(reverse("accounts:my-dossiers"), {"code": mine.code, "pin": my_pin})
    first = slots(online_procedure)[0]
    foreign = theirs.documents.get(slot=first)

    response = client.post(
        reverse("procedures:submit", args=[online_procedure.pk]),
        reuse_data(online_procedure, foreign.pk),
    )

    assert response.status_code == 400
    errors = response.context["form"].errors[f"reuse_doc_{first.pk}"]
    assert errors == [
        "This file is not one of the files of your earlier dossiers, so it cannot be reused. "
        "Choose one from the list or attach a file."
    ]
    assert Dossier.objects.count() == 2


def test_a_mandatory_slot_still_needs_a_file_or_a_reused_one(client, provider, online_procedure):
    mine, my_pin = register_dossier(online_procedure)
    sign_in(client)
    client.post(reverse("accounts:my-dossiers"), {"code": mine.code, "pin": my_pin})
    first = slots(online_procedure)[0]
    data = form_data(online_procedure, **{f"doc_{first.pk}": None})
    response = client.post(reverse("procedures:submit", args=[online_procedure.pk]), data)
    assert response.status_code == 400
    assert response.context["form"].errors[f"doc_{first.pk}"] == [
        f"Attach “{first.name}”: this document is mandatory."
    ]


def test_reused_files_go_through_the_same_checks(client, provider, online_procedure):
    mine, my_pin = register_dossier(online_procedure)
    sign_in(client)
    client.post(reverse("accounts:my-dossiers"), {"code": mine.code, "pin": my_pin})
    first = slots(online_procedure)[0]
    old = mine.documents.get(slot=first)
    # The stored file was replaced by something that is no PDF (a corrupted disk, a
    # file put there by hand): the copy is checked, not trusted.
    with open(old.file.path, "wb") as fh:
        fh.write(b"MZ\x90\x00 not a pdf at all")
    DossierDocument.objects.filter(pk=old.pk).update(size=22)
    response = client.post(
        reverse("procedures:submit", args=[online_procedure.pk]),
        reuse_data(online_procedure, old.pk),
    )
    assert response.status_code == 400
    assert "is not a" in " ".join(response.context["form"].errors[f"reuse_doc_{first.pk}"])
    assert upload  # the shared helper module is the one the submission tests use


def test_only_files_the_applicant_uploaded_can_be_reused(client, provider, online_procedure):
    mine, my_pin = register_dossier(online_procedure)
    sign_in(client)
    client.post(reverse("accounts:my-dossiers"), {"code": mine.code, "pin": my_pin})
    first = slots(online_procedure)[0]
    scan = mine.documents.get(slot=first)
    # The same dossier, but a file the desk added (a scan, a result) is not the applicant's.
    DossierDocument.objects.filter(pk=scan.pk).update(by_applicant=False)
    response = client.post(
        reverse("procedures:submit", args=[online_procedure.pk]),
        reuse_data(online_procedure, scan.pk),
    )
    assert response.status_code == 400
    assert f"reuse_doc_{first.pk}" in response.context["form"].errors


def test_staff_see_accounts_read_only_in_the_admin(client, provider, admin_client):
    sign_in(client)
    account = ApplicantAccount.objects.get()
    listing = admin_client.get(reverse("admin:procedures_applicantaccount_changelist"))
    assert listing.status_code == 200
    assert "Nguyễn Thị Bình" in listing.content.decode()
    page = admin_client.get(reverse("admin:procedures_applicantaccount_change", args=[account.pk]))
    assert page.status_code == 200
    assert admin_client.get(reverse("admin:procedures_applicantaccount_add")).status_code == 403


def test_a_wrong_client_secret_is_a_clear_refusal_not_an_error(client, provider, settings):
    settings.OIDC_CLIENT_SECRET = "not-the-secret"
    refused(sign_in(client), "The identity provider did not sign you in (invalid_client).")


def test_an_unreachable_provider_is_said_plainly(client, provider, settings):
    provider.stop()
    response = client.get(reverse("accounts:sign-in"))
    assert response.status_code == 503
    assert "The identity provider could not be reached." in response.content.decode()


def test_an_earlier_file_gone_from_disk_is_asked_for_again(client, provider, online_procedure):
    mine, my_pin = register_dossier(online_procedure)
    sign_in(client)
    client.post(reverse("accounts:my-dossiers"), {"code": mine.code, "pin": my_pin})
    first = slots(online_procedure)[0]
    old = mine.documents.get(slot=first)
    old.file.storage.delete(old.file.name)
    response = client.post(
        reverse("procedures:submit", args=[online_procedure.pk]),
        reuse_data(online_procedure, old.pk),
    )
    assert response.status_code == 400
    assert response.context["form"].errors[f"reuse_doc_{first.pk}"] == [
        "“don.pdf” can no longer be read from the earlier dossier. Attach it again."
    ]
