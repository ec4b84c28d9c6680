"""Read-only API of the dialogues: sessions and published answers for everyone,
registrations for staff."""

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, permissions

from dialogues import selectors
from dialogues.api.serializers import (
    PublishedAnswerSerializer,
    RegistrationSerializer,
    SessionDetailSerializer,
    SessionSerializer,
)
from dialogues.constants import RegistrationStatus, SessionStatus
from dialogues.models import DialogueSession, Registration


class StaffWithModelPermission(permissions.DjangoModelPermissions):
    """Staff only, and reading needs the model's view permission."""

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_staff) and super().has_permission(
            request, view
        )


@extend_schema_view(
    get=extend_schema(
        summary="List dialogue sessions",
        tags=["dialogues"],
        parameters=[
            OpenApiParameter(
                "when",
                OpenApiTypes.STR,
                enum=["upcoming", "past"],
                description="Only upcoming or only past sessions.",
            ),
            OpenApiParameter(
                "year", OpenApiTypes.INT, description="Sessions starting in this year."
            ),
            OpenApiParameter("status", OpenApiTypes.STR, enum=SessionStatus.values),
        ],
    )
)
class SessionListView(generics.ListAPIView):
    serializer_class = SessionSerializer
    filter_backends = []

    def get_queryset(self):
        now = timezone.now()
        params = self.request.query_params
        when = params.get("when")
        if when == "upcoming":
            queryset = selectors.session_list_upcoming(now=now)
        elif when == "past":
            queryset = selectors.session_annotate_seats(selectors.session_list_past(now=now))
        else:
            queryset = selectors.session_annotate_seats(DialogueSession.objects.public()).order_by(
                "-starts_at"
            )
        if params.get("year", "").isdigit():
            queryset = queryset.filter(starts_at__year=int(params["year"]))
        if params.get("status") in SessionStatus.values:
            queryset = queryset.filter(status=params["status"])
        return queryset.select_related("host_unit").prefetch_related("fields")


@extend_schema_view(get=extend_schema(summary="One dialogue session", tags=["dialogues"]))
class SessionDetailView(generics.RetrieveAPIView):
    serializer_class = SessionDetailSerializer

    def get_queryset(self):
        return selectors.session_annotate_seats(
            DialogueSession.objects.public().select_related("host_unit")
        ).prefetch_related("fields", "agenda")


@extend_schema_view(
    get=extend_schema(
        summary="Registrations for a session (staff only)",
        tags=["dialogues"],
        parameters=[OpenApiParameter("status", OpenApiTypes.STR, enum=RegistrationStatus.values)],
    )
)
class SessionRegistrationListView(generics.ListAPIView):
    serializer_class = RegistrationSerializer
    permission_classes = [StaffWithModelPermission]
    filter_backends = []
    queryset = Registration.objects.none()  # for the permission class's model lookup

    def get_queryset(self):
        queryset = Registration.objects.filter(session_id=self.kwargs["pk"]).order_by(
            "created_at", "id"
        )
        status = self.request.query_params.get("status")
        if status in RegistrationStatus.values:
            queryset = queryset.filter(status=status)
        return queryset


@extend_schema_view(
    get=extend_schema(
        summary="Published answers to business recommendations",
        tags=["dialogues"],
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, description="Words in the question or answer."),
            OpenApiParameter("field", OpenApiTypes.INT, description="Field id."),
            OpenApiParameter("session", OpenApiTypes.INT, description="Session id."),
        ],
    )
)
class PublishedAnswerListView(generics.ListAPIView):
    serializer_class = PublishedAnswerSerializer
    filter_backends = []

    def get_queryset(self):
        params = self.request.query_params
        return selectors.recommendation_published_list(
            q=params.get("q", ""),
            field_id=int(params["field"]) if params.get("field", "").isdigit() else None,
            session_id=int(params["session"]) if params.get("session", "").isdigit() else None,
        )


@extend_schema_view(get=extend_schema(summary="One published answer", tags=["dialogues"]))
class PublishedAnswerDetailView(generics.RetrieveAPIView):
    serializer_class = PublishedAnswerSerializer

    def get_queryset(self):
        return selectors.recommendation_published_list()
