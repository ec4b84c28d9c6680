"""Public, read-only API of the procedure catalogue (/api/v1/procedures/)."""

import re

from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.permissions import AllowAny

from procedures.catalogue import cache as catalogue_cache
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
    # The list's pages come from the catalogue cache (per language, filters and page
    # number; dropped by any catalogue write), except searches, whose words are too many
    # to keep; `next` and `previous` are built for each request from its own address.
    # (A comment, not a docstring: the browsable API would show a docstring.)
    serializer_class = ProcedureListSerializer
    permission_classes = [AllowAny]
    # The query parameters are validated by ProcedureListQuery.

    def query(self) -> dict:
        validated = getattr(self, "_query", None)
        if validated is None:
            query = ProcedureListQuery(data=self.request.query_params)
            query.is_valid(raise_exception=True)
            validated = self._query = query.validated_data
        return validated

    def get_queryset(self):
        query = self.query()
        return procedure_list(
            field_id=query.get("field"),
            online_level=query.get("online_level"),
            search=query.get("search"),
            include_abolished=query["include_abolished"],
        )

    def cache_key(self) -> str | None:
        """Where this page is kept; None for a search, or a page number written in an
        unusual way (which the paginator reads all the same)."""
        query = self.query()
        page = self.request.query_params.get(self.paginator.page_query_param) or "1"
        if query.get("search") or not _PAGE_NUMBER.fullmatch(page):
            return None
        return catalogue_cache.key(
            "api-list",
            get_language(),
            query.get("field") or "",
            query.get("online_level") or "",
            int(query["include_abolished"]),
            page,
        )

    def list(self, request, *args, **kwargs):
        entry_key = self.cache_key()
        if entry_key is None:
            return super().list(request, *args, **kwargs)
        version, entry = catalogue_cache.get(entry_key)
        if entry is None:
            response = super().list(request, *args, **kwargs)
            page = self.paginator.page
            # Only pages that list something: a missing field or page is not kept.
            if page.paginator.count:
                results = [dict(item) for item in response.data["results"]]
                entry = {"count": page.paginator.count, "number": page.number, "results": results}
                catalogue_cache.put(entry_key, version, entry)
            return response
        paginator = self.paginator
        paginator.request = request
        paginator.page = Paginator(range(entry["count"]), paginator.page_size).page(entry["number"])
        if paginator.page.paginator.num_pages > 1 and paginator.template is not None:
            paginator.display_page_controls = True
        return paginator.get_paginated_response(entry["results"])


_PAGE_NUMBER = re.compile(r"[1-9][0-9]{0,5}")


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
