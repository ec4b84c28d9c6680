"""The dossier list's paginator: counts without a full-table COUNT(*), and numbered
pages only as deep as an OFFSET stays cheap (the list goes on by keyset, see
DossierAdmin.get_changelist)."""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property

# ---------------------------------------------------------------- counting without COUNT(*)


class DossierPaginator(Paginator):
    """A paginator that never counts a million rows.

    - no WHERE at all (director, desk): PostgreSQL's own estimate from the statistics
      (`pg_class.reltuples`); a bounded exact count when the statistics say the table
      is small or was never analysed — one cheap query either way;
    - filtered: `SELECT COUNT(*) FROM (... LIMIT limit+1)`, so the cost is bounded;
      above the limit the list says "more than N" and offers N / per_page pages.
    """

    count_is_estimate = False
    count_is_capped = False
    # Numbered page links stop here: page 20,000 by OFFSET reads a million rows.
    # Deeper pages are reached by the list's "older" keyset links.
    offset_pages = 10

    def get_elided_page_range(self, number=1, *, on_each_side=3, on_ends=2):
        previous = None
        for page in super().get_elided_page_range(
            number, on_each_side=on_each_side, on_ends=on_ends
        ):
            shown = page if page == self.ELLIPSIS or page <= self.offset_pages else self.ELLIPSIS
            if shown == self.ELLIPSIS and previous == self.ELLIPSIS:
                continue
            previous = shown
            yield shown

    # A page that starts this deep is found by its ids first, then read by primary key
    # (`_get_page`): the rows before it are skipped in the ordering's index alone.
    deferred_from_row = 2_000

    def _get_page(self, object_list, number, paginator):
        """The page's rows; a deep one (`?p=20000`) by a deferred join.

        An OFFSET over the list's own query makes PostgreSQL build every skipped row
        with its three joins (page 20,000 of a million dossiers: 1.1 s). Here the page's
        slice (bounds as Django's `page` computes them) reads ids only, so the skipped
        rows are counted in the ordering's index (an index-only scan of the primary key
        in the default order), and the page's rows are then read by primary key, with
        their joins, in that order.
        """
        if (number - 1) * self.per_page >= self.deferred_from_row and isinstance(
            object_list, QuerySet
        ):
            ids = list(object_list.values_list("pk", flat=True))
            rows = {row.pk: row for row in self.object_list.filter(pk__in=ids)}
            object_list = [rows[pk] for pk in ids if pk in rows]
        return super()._get_page(object_list, number, paginator)

    @property
    def limit(self) -> int:
        return settings.ADMIN_DOSSIER_COUNT_LIMIT

    @cached_property
    def count(self) -> int:
        qs = self.object_list
        connection = connections[qs.db]
        if not qs.query.where and connection.vendor == "postgresql":
            table = connection.ops.quote_name(qs.model._meta.db_table)
            with connection.cursor() as cursor:
                cursor.execute(
                    # reltuples is -1 before the first ANALYZE and rough on small tables:
                    # below the limit a bounded exact count is cheap and honest.
                    f"SELECT CASE WHEN c.reltuples >= %s THEN c.reltuples::bigint "
                    f"ELSE (SELECT COUNT(*) FROM (SELECT 1 FROM {table} LIMIT %s) AS t) END, "
                    f"c.reltuples >= %s FROM pg_class c WHERE c.oid = %s::regclass",
                    [self.limit, self.limit + 1, self.limit, qs.model._meta.db_table],
                )
                value, estimated = cursor.fetchone()
            if estimated:
                self.count_is_estimate = True
                return int(value)
            if value > self.limit:
                self.count_is_capped = True
                return self.limit
            return int(value)
        capped = qs.order_by()[: self.limit + 1].count()
        if capped > self.limit:
            self.count_is_capped = True
            return self.limit
        return capped
