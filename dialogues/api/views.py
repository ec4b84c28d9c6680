"""Read-only API of the dialogues: sessions and published answers for everyone,
registrations for staff."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, permissions, serializers

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


# Query parameters are validated, so that a wrong one is a 400 that says which and why
# rather than a 500 (issue 11 item 11: ?year=93958437 overflowed the date maths, and a
# NUL byte in ?q= is refused by PostgreSQL). Ids fit a 32-bit key.
_ID = {"min_value": 1, "max_value": 2**31 - 1, "required": False}


class SessionQuerySerializer(serializers.Serializer):
    when = serializers.ChoiceField(
        choices=["upcoming", "past"],
        required=False,
        help_text="Only upcoming or only past sessions.",
    )
    year = serializers.IntegerField(
        min_value=2000, max_value=2100, required=False, help_text="Sessions starting in this year."
    )
    status = serializers.ChoiceField(choices=SessionStatus.values, required=False)


class RegistrationQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=RegistrationStatus.values, required=False)


class AnswerQuerySerializer(serializers.Serializer):
    # CharField refuses NUL characters (ProhibitNullCharactersValidator).
    q = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="Words in the question or answer.",
    )
    field = serializers.IntegerField(**_ID, help_text="Field id.")
    session = serializers.IntegerField(**_ID, help_text="Session id.")


def _query(serializer_class, request) -> dict:
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data


@extend_schema_view(
    get=extend_schema(
        summary="List dialogue sessions",
        tags=["dialogues"],
        parameters=[SessionQuerySerializer],
    )
)
class SessionListView(generics.ListAPIView):
    serializer_class = SessionSerializer

    def get_queryset(self):
        now = timezone.now()
        params = _query(SessionQuerySerializer, self.request)
        when = params.get("when")
        if when == "upcoming":
            queryset = selectors.session_list_upcoming(now=now)
        elif when == "past":
            queryset = selectors.session_annotate_seats(selectors.session_list_past(now=now))
        else:
            queryset = selectors.session_annotate_seats(DialogueSession.objects.public()).order_by(
                "-starts_at"
            )
        if params.get("year"):
            queryset = queryset.filter(starts_at__year=params["year"])
        if params.get("status"):
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
        parameters=[RegistrationQuerySerializer],
    )
)
class SessionRegistrationListView(generics.ListAPIView):
    serializer_class = RegistrationSerializer
    permission_classes = [StaffWithModelPermission]
    queryset = Registration.objects.none()  # for the permission class's model lookup

    def get_queryset(self):
        queryset = Registration.objects.filter(session_id=self.kwargs["pk"]).order_by(
            "created_at", "id"
        )
        status = _query(RegistrationQuerySerializer, self.request).get("status")
        if status:
            queryset = queryset.filter(status=status)
        return queryset


@extend_schema_view(
    get=extend_schema(
        summary="Published answers to business recommendations",
        tags=["dialogues"],
        parameters=[AnswerQuerySerializer],
    )
)
class PublishedAnswerListView(generics.ListAPIView):
    serializer_class = PublishedAnswerSerializer

    def get_queryset(self):
        params = _query(AnswerQuerySerializer, self.request)
        return selectors.recommendation_published_list(
            q=params.get("q", ""),
            field_id=params.get("field"),
            session_id=params.get("session"),
        )


@extend_schema_view(get=extend_schema(summary="One published answer", tags=["dialogues"]))
class PublishedAnswerDetailView(generics.RetrieveAPIView):
    serializer_class = PublishedAnswerSerializer

    def get_queryset(self):
        return selectors.recommendation_published_list()
