"""Keyset pages of the staff dossier API: newest submission first, at any depth.

DRF's CursorPagination positions on the first ordering field only and counts an
OFFSET through rows that share it, and walking back through such ties can skip or
repeat rows. This cursor holds the whole sort key (submitted_at, id), which is unique,
so the next page is `(submitted_at, id) < (at, id)` read from the
(-submitted_at, -id) index (dossier_submitted_idx): a seek, never an OFFSET. The
response has DRF's cursor shape (`next`, `previous`, `results`), so clients and the
schema see no difference.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from django.db.models import Q
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination
from rest_framework.utils.urls import remove_query_param, replace_query_param

NEXT, PREVIOUS = "n", "p"


def _encode(direction: str, at: datetime, pk: int) -> str:
    raw = f"{direction}|{at.isoformat()}|{pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(token: str) -> tuple[str, datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        direction, at, pk = raw.split("|")
        if direction not in (NEXT, PREVIOUS):
            raise ValueError(direction)
        when = datetime.fromisoformat(at)
        if when.tzinfo is None:
            raise ValueError(at)
        return direction, when, int(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise NotFound(CursorPagination.invalid_cursor_message) from exc


class DossierKeysetPagination(CursorPagination):
    ordering = ("-submitted_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.base_url = request.build_absolute_uri()
        size = self.get_page_size(request)
        token = request.query_params.get(self.cursor_query_param)
        cursor = _decode(token) if token else None
        if cursor is None or cursor[0] == NEXT:
            qs = queryset.order_by("-submitted_at", "-id")
            if cursor is not None:
                _, at, pk = cursor
                # submitted_at <= at bounds the index range; the OR breaks the tie.
                qs = qs.filter(Q(submitted_at__lte=at), Q(submitted_at__lt=at) | Q(id__lt=pk))
        else:
            _, at, pk = cursor
            qs = queryset.order_by("submitted_at", "id").filter(
                Q(submitted_at__gte=at), Q(submitted_at__gt=at) | Q(id__gt=pk)
            )
        rows = list(qs[: size + 1])
        more = len(rows) > size
        rows = rows[:size]
        if cursor is not None and cursor[0] == PREVIOUS:
            rows.reverse()
            self.has_next, self.has_previous = True, more
        else:
            self.has_next, self.has_previous = more, cursor is not None
        self.page = rows
        return rows

    def _link(self, direction: str, row) -> str:
        token = _encode(direction, row.submitted_at, row.pk)
        return replace_query_param(self.base_url, self.cursor_query_param, token)

    def get_next_link(self) -> str | None:
        if not self.has_next:
            return None
        if not self.page:  # an empty page reached backwards: start again from the top
            return remove_query_param(self.base_url, self.cursor_query_param)
        return self._link(NEXT, self.page[-1])

    def get_previous_link(self) -> str | None:
        if not self.has_previous:
            return None
        if not self.page:
            return remove_query_param(self.base_url, self.cursor_query_param)
        return self._link(PREVIOUS, self.page[0])
