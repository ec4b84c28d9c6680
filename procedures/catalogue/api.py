"""Public, read-only API of the procedure catalogue (/api/v1/procedures/)."""

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.permissions import AllowAny

from procedures.catalogue.selectors import procedure_list
from procedures.catalogue.serializers import ProcedureDetailSerializer, ProcedureListSerializer
from procedures.core.constants import OnlineLevel
from procedures.models import Procedure, ProcedureVersion


class ProcedureListQuery(serializers.Serializer):
    field = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    online_level = serializers.ChoiceField(choices=OnlineLevel.choices, required=False)
    search = serializers.CharField(required=False, allow_blank=True, max_length=200)
    include_abolished = serializers.BooleanField(required=False, default=False)


@extend_schema(
    summary=_("List procedures"),
    description=_(
        "Procedures in force, in catalogue order (field, then name). Search ignores "
        "Vietnamese diacritics and also matches the national code."
    ),
    parameters=[
        OpenApiParameter("field", OpenApiTypes.INT, description=_("Field id.")),
        OpenApiParameter(
            "online_level",
            OpenApiTypes.STR,
            enum=OnlineLevel.values,
            description=_("Online level."),
        ),
        OpenApiParameter(
            "search", OpenApiTypes.STR, description=_("Words of the name, or a code.")
        ),
        OpenApiParameter(
            "include_abolished",
            OpenApiTypes.BOOL,
            description=_("Also list abolished procedures."),
        ),
    ],
    tags=["catalogue"],
)
class ProcedureListView(generics.ListAPIView):
    serializer_class = ProcedureListSerializer
    permission_classes = [AllowAny]
    # The query parameters are validated by ProcedureListQuery.

    def get_queryset(self):
        query = ProcedureListQuery(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return procedure_list(
            field_id=query.validated_data.get("field"),
            online_level=query.validated_data.get("online_level"),
            search=query.validated_data.get("search"),
            include_abolished=query.validated_data["include_abolished"],
        )


@extend_schema(
    summary=_("Procedure by national code"),
    description=_(
        "Every published part of one procedure: steps, documents with form templates, "
        "processing time (time_published is false while it is not yet published), fees, "
        "channels, and the history of versions with their publishing decisions."
    ),
    tags=["catalogue"],
)
class ProcedureDetailView(generics.RetrieveAPIView):
    serializer_class = ProcedureDetailSerializer
    permission_classes = [AllowAny]
    lookup_field = "code"
    queryset = Procedure.objects.select_related("field", "implementing_unit").prefetch_related(
        "documents",
        Prefetch("versions", queryset=ProcedureVersion.objects.order_by("-number")),
    )
