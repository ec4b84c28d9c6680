"""Read-only representations of the catalogue for the public API."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from procedures.models import Field, Procedure, ProcedureVersion, RequiredDocument, Unit


class FieldSerializer(serializers.ModelSerializer):
    class Meta:
        model = Field
        fields = ["id", "name", "ministry_code"]


class UnitSerializer(serializers.ModelSerializer):
    class Meta:
        model = Unit
        fields = ["id", "code", "name"]


class ProcessingTimeMixin(serializers.Serializer):
    time_published = serializers.BooleanField(
        read_only=True,
        help_text=_(
            "False while the processing time is not yet published: no dossier can be accepted."
        ),
    )


class ProcedureListSerializer(ProcessingTimeMixin, serializers.ModelSerializer):
    field = FieldSerializer(read_only=True)
    accepts_online = serializers.BooleanField(
        read_only=True,
        help_text=_(
            "True when the portal takes an online dossier for this procedure (the "
            "same rule as the submit button)."
        ),
    )

    class Meta:
        model = Procedure
        fields = [
            "code",
            "name",
            "field",
            "level",
            "status",
            "processing_amount",
            "processing_unit",
            "online_processing_amount",
            "time_published",
            "fee_vnd",
            "fee_text",
            "online_level",
            "channel_direct",
            "channel_postal",
            "channel_online",
            "accepts_online",
        ]


class RequiredDocumentSerializer(serializers.ModelSerializer):
    template_url = serializers.SerializerMethodField(
        help_text=_("Download address of the blank form, null when there is none.")
    )

    class Meta:
        model = RequiredDocument
        fields = ["name", "kind", "copies", "mandatory", "template_name", "template_url", "order"]

    @extend_schema_field(OpenApiTypes.URI)
    def get_template_url(self, obj: RequiredDocument) -> str | None:
        if not obj.template:
            return None
        url = obj.template.url
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class ProcedureVersionSerializer(serializers.ModelSerializer):
    time_saved = serializers.DecimalField(
        max_digits=6, decimal_places=1, read_only=True, allow_null=True
    )

    class Meta:
        model = ProcedureVersion
        fields = [
            "number",
            "kind",
            "decision_number",
            "decision_date",
            "effective_from",
            "changes",
            "processing_amount",
            "processing_unit",
            "online_processing_amount",
            "fee_vnd",
            "fee_text",
            "time_saved",
            "note",
        ]


class ProcedureDetailSerializer(ProcedureListSerializer):
    implementing_unit = UnitSerializer(read_only=True, allow_null=True)
    documents = RequiredDocumentSerializer(many=True, read_only=True)
    versions = ProcedureVersionSerializer(many=True, read_only=True)

    class Meta(ProcedureListSerializer.Meta):
        fields = ProcedureListSerializer.Meta.fields + [
            "online_level_text",
            "steps",
            "applicants",
            "conditions",
            "result",
            "legal_basis",
            "implementing_unit",
            "publishing_decision",
            "effective_from",
            "effective_to",
            "source",
            "documents_source",
            "documents",
            "versions",
        ]
