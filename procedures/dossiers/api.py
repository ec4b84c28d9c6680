"""Staff dossier API and the public look-up (issue item 8).

- GET  /api/v1/dossiers/                              list, filtered, cursor-paginated
- GET  /api/v1/dossiers/<code>/                       detail with steps, events, documents
- POST /api/v1/dossiers/<code>/actions/<action>/      one transition, through the service
- GET  /api/v1/dossiers/lookup/?code=&pin=            the applicant's view, rate-limited

Views stay thin: visibility is `Dossier.objects.visible_to`, every rule is in
procedures.dossiers.services, and a `DomainError` becomes 400, 403 (code "forbidden")
or 409 (`DossierConflict`) with the body {"detail", "field", "code"}.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.http import Http404
from django.utils.cache import add_never_cache_headers
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from procedures.core import throttle
from procedures.core.api_throttling import LookupRateThrottle
from procedures.core.constants import Action
from procedures.core.errors import DomainError
from procedures.dossiers import serializers as ser
from procedures.dossiers import services as svc
from procedures.dossiers.actions import TRANSITIONS, ActionDef
from procedures.dossiers.lookup_selectors import lookup_dossier
from procedures.dossiers.pagination import DossierKeysetPagination
from procedures.dossiers.permissions import IsDossierStaff
from procedures.dossiers.selectors import dossier_detail_queryset, dossier_list
from procedures.models import Dossier, Unit

# Token first, so an anonymous client gets 401 with `WWW-Authenticate: Token`.
STAFF_AUTHENTICATION = [TokenAuthentication, SessionAuthentication]

_ERROR_RESPONSES = {
    400: OpenApiResponse(
        ser.DomainErrorSerializer,
        description=gettext_lazy("A rule of the procedure refused the action."),
    ),
    401: OpenApiResponse(description=gettext_lazy("Not logged in.")),
    403: OpenApiResponse(
        ser.DomainErrorSerializer, description=gettext_lazy("The user's role may not do this.")
    ),
    404: OpenApiResponse(description=gettext_lazy("No such dossier among those the user sees.")),
    409: OpenApiResponse(
        ser.DomainErrorSerializer,
        description=gettext_lazy("Someone changed the dossier since expected_version was read."),
    ),
}


def domain_error_response(exc: DomainError) -> Response:
    if isinstance(exc, svc.DossierConflict):
        code = status.HTTP_409_CONFLICT
    elif exc.code == "forbidden":
        code = status.HTTP_403_FORBIDDEN
    else:
        code = status.HTTP_400_BAD_REQUEST
    return Response({"detail": exc.message, "field": exc.field, "code": exc.code}, status=code)


class DomainErrorShape:
    """Every error of the staff dossier API has the documented keys: detail, field, code.

    DRF's own errors (not logged in, no permission, not found, invalid body) come as
    {"detail"} or {field: [messages]}; the keys are added here (the first message and
    its field), the field messages kept beside them (issue 11 item 11: action errors
    lacked the documented keys).
    """

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        data = response.data
        if isinstance(data, dict) and {"detail", "field", "code"} <= data.keys():
            return response
        if isinstance(data, dict) and set(data) == {"detail"}:
            detail = data["detail"]
            response.data = {
                "detail": str(detail),
                "field": None,
                "code": getattr(detail, "code", None),
            }
            return response
        field, messages = (
            next(iter(data.items())) if isinstance(data, dict) and data else (None, data)
        )
        while isinstance(messages, (list, dict)) and messages:
            messages = messages[0] if isinstance(messages, list) else next(iter(messages.values()))
        response.data = {
            **(data if isinstance(data, dict) else {"non_field_errors": data}),
            "detail": str(messages),
            "field": None if field in (None, "non_field_errors") else field,
            "code": getattr(messages, "code", "invalid"),
        }
        return response


# ---------------------------------------------------------------- staff list and detail


# A cursor, not page numbers: no COUNT(*) over a million rows, pages stay stable while
# new dossiers arrive at the top, and each is an index seek on (submitted_at, id).
DossierCursorPagination = DossierKeysetPagination


@extend_schema(
    summary=gettext_lazy("List dossiers"),
    description=gettext_lazy(
        "Dossiers the user may see (desk and directors: all; unit heads: their unit's; "
        "specialists: their own and their unit's), newest submission first. Paginated by "
        "cursor: follow `next`."
    ),
    parameters=[ser.DossierListQuerySerializer],
    responses={
        200: ser.DossierListSerializer(many=True),
        400: OpenApiResponse(description=gettext_lazy("A filter is invalid.")),
        401: _ERROR_RESPONSES[401],
        403: _ERROR_RESPONSES[403],
    },
    tags=["dossiers"],
)
class DossierListView(DomainErrorShape, generics.ListAPIView):
    authentication_classes = STAFF_AUTHENTICATION
    permission_classes = [IsDossierStaff]
    serializer_class = ser.DossierListSerializer
    pagination_class = DossierCursorPagination

    def get_queryset(self):
        query = ser.DossierListQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return dossier_list(user=self.request.user, **query.validated_data)


@extend_schema(
    summary=gettext_lazy("Dossier by code"),
    description=gettext_lazy(
        "Everything staff know of one dossier: applicant, deadlines, internal steps (form "
        "05), the event log and document metadata. `version` goes into every action."
    ),
    responses={
        200: ser.DossierDetailSerializer,
        401: _ERROR_RESPONSES[401],
        403: _ERROR_RESPONSES[403],
        404: _ERROR_RESPONSES[404],
    },
    tags=["dossiers"],
)
class DossierDetailView(DomainErrorShape, generics.RetrieveAPIView):
    authentication_classes = STAFF_AUTHENTICATION
    permission_classes = [IsDossierStaff]
    serializer_class = ser.DossierDetailSerializer
    lookup_field = "code"

    def get_queryset(self):
        return dossier_detail_queryset(user=self.request.user)

    def get_object(self):
        # By its legal code or, before acceptance, its submission reference.
        dossier = self.get_queryset().numbered(self.kwargs["code"]).first()
        if dossier is None:
            raise Http404
        self.check_object_permissions(self.request, dossier)
        return dossier


# ---------------------------------------------------------------- actions


def _unit(code: str) -> Unit:
    unit = Unit.objects.filter(code=code.strip()).first()
    if unit is None:
        raise DomainError(
            _("There is no unit with the code “%(code)s”.") % {"code": code},
            field="unit",
            code="not_found",
        )
    return unit


def _officer(username: str | None):
    if not username:
        return None
    user = (
        get_user_model()
        .objects.select_related("staff_profile")
        .filter(username=username.strip(), is_active=True)
        .first()
    )
    if user is None:
        raise DomainError(
            _("There is no active officer with the username “%(username)s”.")
            % {"username": username},
            field="officer",
            code="not_found",
        )
    return user


def _assign_arguments(data: dict) -> dict:
    # The API names the unit by its code and the officer by username.
    return {**data, "unit": _unit(data["unit"]), "officer": _officer(data.get("officer"))}


@dataclass(frozen=True)
class ActionSpec:
    """How the API takes one action of the registry (procedures/dossiers/actions.py):
    only the body's shape is the API's own; statuses, roles, texts and the service
    are the registry's."""

    definition: ActionDef
    serializer: type[ser.ActionSerializer]
    # Turns the validated body into the service's keyword arguments, where they differ.
    arguments: Callable[[dict], dict] | None = None

    @property
    def action(self) -> str:
        return self.definition.action

    def call(self, dossier: Dossier, user, data: dict, expected_version: int) -> Any:
        kwargs = self.arguments(data) if self.arguments else data
        return self.definition.service(
            dossier=dossier, actor=user, expected_version=expected_version, **kwargs
        )


def _describe(definition: ActionDef) -> str:
    return _("%(help)s From status: %(statuses)s.") % {
        "help": definition.help_text,
        "statuses": ", ".join(str(int(s)) for s in sorted(definition.sources)),
    }


_describe_lazy = lazy(_describe, str)

_BODIES: dict[str, type[ser.ActionSerializer]] = {
    Action.ACCEPT: ser.ActionSerializer,
    Action.REFUSE_INTAKE: ser.ReasonActionSerializer,
    Action.REQUEST_SUPPLEMENT: ser.SupplementRequestSerializer,
    Action.RECEIVE_SUPPLEMENT: ser.NoteActionSerializer,
    Action.REQUEST_PAYMENT: ser.PaymentRequestSerializer,
    Action.CONFIRM_PAYMENT: ser.NoteActionSerializer,
    Action.ASSIGN: ser.AssignSerializer,
    Action.COMPLETE_STEP: ser.NoteActionSerializer,
    Action.APOLOGISE: ser.ApologiseSerializer,
    Action.RESOLVE: ser.ResolveSerializer,
    Action.RETURN_RESULT: ser.NoteActionSerializer,
    Action.WITHDRAW: ser.OptionalReasonActionSerializer,
    Action.STOP: ser.ReasonActionSerializer,
}

ACTIONS: dict[str, ActionSpec] = {
    action: ActionSpec(
        definition,
        _BODIES[action],
        arguments=_assign_arguments if action == Action.ASSIGN else None,
    )
    for action, definition in TRANSITIONS.items()
}


class DossierActionView(DomainErrorShape, APIView):
    """One transition. Subclassed per action below so each has its own documented body."""

    authentication_classes = STAFF_AUTHENTICATION
    permission_classes = [IsDossierStaff]
    spec: ActionSpec

    def get_serializer(self, *args, **kwargs):  # for drf-spectacular
        return self.spec.serializer(*args, **kwargs)

    def post(self, request, code: str):
        dossier = Dossier.objects.visible_to(request.user).numbered(code).first()
        if dossier is None:
            raise Http404
        body = self.spec.serializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        version = data.pop("expected_version")
        try:
            self.spec.call(dossier, request.user, data, version)
        except DomainError as exc:
            return domain_error_response(exc)
        fresh = dossier_detail_queryset(user=request.user).filter(pk=dossier.pk).first()
        if fresh is None:
            # The action moved the dossier out of the user's sight (e.g. reassigned
            # away from a specialist): confirm without showing it.
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(ser.DossierDetailSerializer(fresh, context={"request": request}).data)


def _action_view(spec: ActionSpec) -> type[DossierActionView]:
    schema = extend_schema(
        operation_id=f"dossier_action_{spec.action}",
        summary=spec.definition.label,
        description=_describe_lazy(spec.definition),
        request=spec.serializer,
        responses={
            200: ser.DossierDetailSerializer,
            204: OpenApiResponse(
                description=gettext_lazy("Done; the dossier is no longer visible to the user.")
            ),
            **_ERROR_RESPONSES,
        },
        tags=["dossier actions"],
    )
    name = "".join(part.title() for part in spec.action.split("_")) + "ActionView"
    return extend_schema_view(post=schema)(type(name, (DossierActionView,), {"spec": spec}))


ACTION_VIEWS: dict[str, type[DossierActionView]] = {a: _action_view(s) for a, s in ACTIONS.items()}


@extend_schema(exclude=True)
class UnknownActionView(APIView):
    authentication_classes = STAFF_AUTHENTICATION
    permission_classes = [IsDossierStaff]

    def post(self, request, code: str, action: str):
        return Response(
            {
                "detail": _("Unknown action “%(action)s”. Known actions: %(known)s.")
                % {"action": action, "known": ", ".join(ACTIONS)},
                "field": None,
                "code": "unknown_action",
            },
            status=status.HTTP_404_NOT_FOUND,
        )


# ---------------------------------------------------------------- public look-up


def _not_found() -> Response:
    # One body for an unknown code and a wrong PIN, so the endpoint cannot be used to
    # learn which codes exist.
    return Response(
        {"detail": _("No dossier matches this code and PIN. Check both on your receipt.")},
        status=status.HTTP_404_NOT_FOUND,
    )


_LOOKUP_RESPONSES = {
    200: ser.LookupSerializer,
    400: OpenApiResponse(description=gettext_lazy("code or pin missing.")),
    404: OpenApiResponse(
        ser.LookupNotFoundSerializer, description=gettext_lazy("Wrong code or PIN.")
    ),
    429: OpenApiResponse(
        ser.LookupNotFoundSerializer,
        description=gettext_lazy(
            "Too many requests or failures; the Retry-After header gives the seconds to wait."
        ),
    ),
}
_LOOKUP_DESCRIPTION = gettext_lazy(
    "For the applicant: status, deadlines, what is asked of them and the timeline. "
    "No staff names, no ID number or contacts. A wrong code and a wrong PIN give the "
    "same 404. After a few failures an address waits, longer after each one, and many "
    "failures on one code close that code for a while (429 with Retry-After), shared "
    "with the look-up page; every address is rate-limited."
)


class DossierLookupView(APIView):
    # No session or token: the applicant has neither, and skipping them skips CSRF.
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [LookupRateThrottle]
    throttle_scope = "dossier_lookup"

    @extend_schema(
        summary=gettext_lazy("Look up a dossier with its code and PIN"),
        description=_LOOKUP_DESCRIPTION,
        request=ser.LookupQuerySerializer,
        responses=_LOOKUP_RESPONSES,
        tags=["public"],
    )
    def post(self, request):
        response = self._lookup(request, request.data)
        add_never_cache_headers(response)  # personal data: never kept by a proxy
        return response

    @extend_schema(
        summary=gettext_lazy("Look up a dossier (deprecated: the PIN lands in access logs)"),
        description=gettext_lazy(
            "Deprecated: use POST with code and pin in the body. A PIN "
            "in the URL is written to every proxy's access log."
        ),
        parameters=[ser.LookupQuerySerializer],
        responses=_LOOKUP_RESPONSES,
        deprecated=True,
        tags=["public"],
    )
    def get(self, request):
        response = self._lookup(request, request.query_params)
        add_never_cache_headers(response)
        # RFC 9745: tells clients to move to POST.
        response["Deprecation"] = "true"
        response["Link"] = f'<{request.path}>; rel="alternate"; type="application/json"'
        return response

    def check_throttles(self, request):
        # GET and POST count the address's rate in `_lookup`, in the same round trip as
        # the failure counters it reads; any other method here (OPTIONS) counts alone.
        if request.method not in ("GET", "POST"):
            super().check_throttles(request)

    def _lookup(self, request, data) -> Response:
        query = ser.LookupQuerySerializer(data=data)
        valid = query.is_valid()
        # As DRF's order was: the rate limit (429), then the parameters (400), then the
        # back-off or closed code (429 with its own message).
        rate_wait, seconds = throttle.lookup_check(
            request,
            code=query.validated_data["code"].strip() if valid else None,
            rate=LookupRateThrottle.window(),
        )
        if rate_wait is not None:
            self.throttled(request, rate_wait)
        if not valid:
            raise ValidationError(query.errors)
        code = query.validated_data["code"].strip()
        pin = query.validated_data["pin"].strip()
        if seconds:
            raise Throttled(
                wait=seconds,
                detail=_("Too many wrong attempts. Try again in %(wait)s.")
                % {"wait": throttle.wait_text(seconds)},
            )
        # Exact matches only, so the unique indexes answer: the legal code or the
        # submission reference (an online dossier's number before acceptance).
        # One fixed statement (lookup_selectors) reads the dossier, its procedure's name
        # and its events: the ORM's compiling cost more than the index look-ups.
        dossier, events = lookup_dossier(code)
        if dossier is None:
            svc.pin_hash(code=code, pin=pin)  # same work as a wrong PIN: no timing hint
        if dossier is None or not svc.pin_matches(dossier=dossier, pin=pin):
            throttle.lookup_failed(request, code=code)
            return _not_found()
        throttle.lookup_succeeded(code=code, request=request)
        return Response(ser.lookup_payload(dossier, events))
