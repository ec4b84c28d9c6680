"""Paged lists on public and staff pages."""

from __future__ import annotations

from django.core.paginator import Page, Paginator


def page_of(request, items, per_page: int) -> tuple[Page, str]:
    """The page of `items` that `?page=` asks for, and the rest of the query string
    (filters) for the page links to carry."""
    page = Paginator(items, per_page).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()
