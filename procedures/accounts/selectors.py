"""Reads for applicant accounts."""

from __future__ import annotations

from django.db.models import QuerySet

from procedures.accounts.models import ApplicantAccount
from procedures.dossiers.models import DossierQuerySet
from procedures.models import Dossier, DossierDocument


def account_dossiers(*, account: ApplicantAccount) -> DossierQuerySet:
    return (
        Dossier.objects.filter(applicant_link__account=account)
        .select_related("procedure")
        .order_by("-submitted_at", "-id")
    )


def account_dossier(*, account: ApplicantAccount, code: str) -> Dossier | None:
    return account_dossiers(account=account).numbered(code).first()


def account_documents(*, account: ApplicantAccount) -> QuerySet[DossierDocument]:
    """Files the applicant uploaded to their own dossiers: never the department's
    results, scans by staff, or anything of another account."""
    return (
        DossierDocument.objects.filter(
            dossier__applicant_link__account=account, by_applicant=True, is_result=False
        )
        .select_related("dossier")
        .order_by("-created_at", "-id")
    )
