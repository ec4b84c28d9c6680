from rest_framework import serializers

from dialogues.models import AgendaItem, DialogueSession, Recommendation, Registration


class AgendaItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = AgendaItem
        fields = ["order", "starts_at", "title", "presenter", "description"]


class BlankAsNullURLField(serializers.URLField):
    """A link that may be missing: null, never "" (an empty string is not a URI, and
    the schema says `format: uri`)."""

    def __init__(self, **kwargs):
        super().__init__(allow_null=True, read_only=True, **kwargs)

    def to_representation(self, value):
        return value or None


class SessionSerializer(serializers.ModelSerializer):
    # null where a session has no host unit; the schema says so (allow_null).
    host_unit = serializers.CharField(
        source="host_unit.name", default=None, read_only=True, allow_null=True
    )
    online_link = BlankAsNullURLField()
    fields_concerned = serializers.SlugRelatedField(
        source="fields", many=True, read_only=True, slug_field="name"
    )
    seats_taken = serializers.IntegerField(read_only=True)
    waitlisted = serializers.IntegerField(read_only=True)

    class Meta:
        model = DialogueSession
        fields = [
            "id",
            "title",
            "topic",
            "content",
            "format",
            "status",
            "starts_at",
            "ends_at",
            "venue",
            "online_link",
            "chair",
            "host_unit",
            "fields_concerned",
            "capacity",
            "seats_taken",
            "waitlisted",
            "registration_deadline",
            "answer_working_days",
        ]


class SessionDetailSerializer(SessionSerializer):
    agenda = AgendaItemSerializer(many=True, read_only=True)

    class Meta(SessionSerializer.Meta):
        fields = [*SessionSerializer.Meta.fields, "agenda", "conclusions"]


class RegistrationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Registration
        fields = [
            "id",
            "session",
            "business_name",
            "tax_code",
            "representative",
            "position",
            "email",
            "phone",
            "attendees",
            "questions",
            "status",
            "attended",
            "created_at",
            "promoted_at",
            "cancelled_at",
        ]


class PublishedAnswerSerializer(serializers.ModelSerializer):
    field = serializers.CharField(
        source="field.name", default=None, read_only=True, allow_null=True
    )
    session_title = serializers.CharField(
        source="session.title", default=None, read_only=True, allow_null=True
    )

    class Meta:
        model = Recommendation
        fields = [
            "id",
            "session",
            "session_title",
            "field",
            "content",
            "answer_text",
            "answer_document_number",
            "answer_kind",
            "answered_at",
            "published_at",
        ]
