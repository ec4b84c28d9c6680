"""Public dialogue pages: sessions, registration and its private link, recommendations,
published answers.

Views stay thin: they read through selectors, write through services, and turn a
DomainError into a form or page message.
"""

import os

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from dialogues import selectors, services
from dialogues.constants import (
    RecommendationSource,
    RegistrationStatus,
    SessionStatus,
)
from dialogues.forms import (
    PublicAnswerSearchForm,
    RecommendationSubmitForm,
    RegistrationForm,
)
from dialogues.ics import session_invitation_ics
from dialogues.models import (
    DialogueSession,
    SessionDocument,
)
from dialogues.views.common import download_response
from procedures.core import throttle
from procedures.core.errors import DomainError, apply_domain_error
from procedures.core.paging import page_of


def session_list(request):
    now = timezone.now()
    context = {
        "upcoming": selectors.session_list_upcoming(now=now),
        "past": selectors.session_list_past(now=now)[:30],
        "year": timezone.localdate().year,
    }
    return render(request, "dialogues/session_list.html", context)


def session_plan(request, year: int):
    if not 2000 <= year <= 2100:
        raise Http404
    plan = selectors.session_year_plan(year=year, include_unpublished=request.user.is_staff)
    return render(request, "dialogues/session_plan.html", {"plan": plan})


def _public_session(pk: int) -> DialogueSession:
    try:
        return selectors.session_get_public(session_id=pk)
    except DialogueSession.DoesNotExist:
        raise Http404 from None


def _registration_open(session: DialogueSession, now) -> bool:
    return (
        session.status == SessionStatus.REGISTRATION_OPEN and now <= session.registration_deadline
    )


def session_detail(request, pk: int):
    session = _public_session(pk)
    now = timezone.now()
    context = {
        "session": session,
        "registration_open": _registration_open(session, now),
        "seats_free": max(session.capacity - session.seats_taken, 0),
        "documents": session.documents.filter(is_public=True),
        "answers": selectors.recommendation_published_list(session_id=session.pk)[:20],
    }
    return render(request, "dialogues/session_detail.html", context)


def session_document(request, pk: int, document_pk: int):
    """A published document of a published session (MEDIA is never served directly)."""
    session = _public_session(pk)
    document = get_object_or_404(SessionDocument, pk=document_pk, session=session, is_public=True)
    name = os.path.basename(document.file.name)
    return download_response(document.file, filename=name)


def registration_create(request, pk: int):
    session = _public_session(pk)
    if not _registration_open(session, timezone.now()):
        return render(request, "dialogues/registration_closed.html", {"session": session})
    form = RegistrationForm(request.POST or None, request.FILES or None, session=session)
    if (
        request.method == "POST"
        and (wait := throttle.form_blocked(request, "dialogue-registration")) is not None
    ):
        form.is_valid()
        form.add_error(None, throttle.TOO_MANY_REQUESTS % {"wait": throttle.wait_text(wait)})
        return throttle.retry_after(
            render(
                request,
                "dialogues/registration_form.html",
                {"session": session, "form": form},
                status=429,
            ),
            wait,
        )
    if request.method == "POST" and form.is_valid():
        if form.is_spam:
            # Same answer as a success: a bot learns nothing.
            return redirect("dialogues:registration-done", pk=session.pk)
        data = form.cleaned_data
        try:
            registration, _token = services.registration_create(
                session_id=session.pk,
                business_name=data["business_name"],
                tax_code=data["tax_code"],
                representative=data["representative"],
                position=data["position"],
                email=data["email"],
                phone=data["phone"],
                attendees=data["attendees"],
                questions=data["questions"],
                question_field_id=data["question_field"].pk if data["question_field"] else None,
                attachment=data.get("attachment"),
                language=translation.get_language() or "vi",
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            # Only the id: the done page reads the status and the queue position
            # fresh, and the raw token stays out of the session store.
            request.session[_JUST_REGISTERED] = registration.pk
            throttle.form_succeeded(request, "dialogue-registration")
            return redirect("dialogues:registration-done", pk=session.pk)
    return render(request, "dialogues/registration_form.html", {"session": session, "form": form})


def recommendation_submit(request):
    """Difficulties and recommendations sent between sessions (docs/legal-rules.md: "Business
    dialogues")."""
    form = RecommendationSubmitForm(request.POST or None, request.FILES or None)
    status, wait = 200, None
    if request.method == "POST":
        wait = throttle.form_blocked(request, "dialogue-recommendation")
        if wait is not None:
            form.is_valid()
            form.add_error(
                None,
                _("Too many submissions from your connection. Try again in %(wait)s.")
                % {"wait": throttle.wait_text(wait)},
            )
            status = 429
        elif form.is_valid():
            if form.is_spam:
                return redirect("dialogues:recommendation-done")  # a bot learns nothing
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    recommendation = services.recommendation_receive(
                        content=data["content"],
                        source=RecommendationSource.BETWEEN_SESSIONS,
                        business_name=data["business_name"],
                        tax_code=data["tax_code"],
                        field_id=data["field"].pk if data["field"] else None,
                        contact_email=data["email"],
                        is_public=data["is_public"],
                    )
                    if data.get("attachment"):
                        services.recommendation_attach(
                            recommendation=recommendation, upload=data["attachment"]
                        )
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                throttle.form_succeeded(request, "dialogue-recommendation")
                return redirect("dialogues:recommendation-done")
        else:
            status = 400
    response = render(request, "dialogues/recommendation_form.html", {"form": form}, status=status)
    return throttle.retry_after(response, wait) if status == 429 else response


def recommendation_done(request):
    return render(request, "dialogues/recommendation_done.html")


_JUST_REGISTERED = "dialogues.just_registered"


def registration_done(request, pk: int):
    session = _public_session(pk)
    registration = None
    registration_id = request.session.get(_JUST_REGISTERED)
    if registration_id is not None:
        registration = session.registrations.filter(pk=registration_id).first()
    context = {
        "session": session,
        "registration": registration,
        "position": registration
        and selectors.registration_waitlist_position(registration=registration),
    }
    return render(request, "dialogues/registration_done.html", context)


def _private(response: HttpResponse) -> HttpResponse:
    """Headers of a page whose URL holds a personal token.

    Not cached anywhere, and the URL never leaves in a Referer to another site.
    `same-origin`, not `no-referrer`: with `no-referrer` Chromium posts the page's own
    forms (cancel, language switch) with `Origin: null`, which the CSRF check rightly
    refuses; same-origin requests keep their real Origin and Referer.
    """
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "same-origin"
    return response


def _registration_by_link(public_id, token):
    registration = selectors.registration_get_by_link(public_id=public_id, token=token)
    if registration is None:
        raise Http404
    return registration


def _manage_throttled(request) -> HttpResponse | None:
    # Every visit of a personal link counts, found or not: the token is long and
    # random, and this keeps anyone from trying them in bulk.
    wait = throttle.form_blocked(request, "dialogue-manage")
    if wait is None:
        return None
    response = HttpResponse(
        throttle.TOO_MANY_REQUESTS % {"wait": throttle.wait_text(wait)},
        status=429,
        content_type="text/plain; charset=utf-8",
    )
    return _private(throttle.retry_after(response, wait))


def registration_manage(request, public_id, token: str):
    if (refused := _manage_throttled(request)) is not None:
        return refused
    registration = _registration_by_link(public_id, token)
    if request.method == "POST":
        try:
            services.registration_cancel(registration_id=registration.pk)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Your registration is cancelled."))
        return redirect(request.path)
    session = registration.session
    context = {
        "registration": registration,
        "session": session,
        "position": selectors.registration_waitlist_position(registration=registration),
        "can_cancel": registration.status != RegistrationStatus.CANCELLED
        and timezone.now() < session.starts_at,
        "token": token,
    }
    return _private(render(request, "dialogues/registration_manage.html", context))


def registration_ics(request, public_id, token: str):
    if (refused := _manage_throttled(request)) is not None:
        return refused
    registration = _registration_by_link(public_id, token)
    if registration.status != RegistrationStatus.CONFIRMED:
        raise Http404
    body = session_invitation_ics(
        session=registration.session,
        attendee_email=registration.email,
        description=registration.session.topic or registration.session.title,
        now=timezone.now(),
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="invitation.ics"'
    return _private(response)


def answer_list(request):
    form = PublicAnswerSearchForm(request.GET or None)
    filters = {"q": "", "field_id": None, "session_id": None}
    if form.is_valid():
        data = form.cleaned_data
        filters = {
            "q": data["q"],
            "field_id": data["field"].pk if data["field"] else None,
            "session_id": data["session"].pk if data["session"] else None,
        }
    page, query = page_of(request, selectors.recommendation_published_list(**filters), 20)
    return render(
        request,
        "dialogues/answer_list.html",
        {"form": form, "page": page, "query": query},
    )
