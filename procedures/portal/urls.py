"""Public pages. Paths are Vietnamese (the default language has no prefix; /en/ for English)."""

from django.urls import path

from procedures.portal import views

app_name = "procedures"

urlpatterns = [
    path("", views.home, name="home"),
    path("thu-tuc/", views.procedure_list_view, name="procedure-list"),
    path("thu-tuc/<int:pk>/", views.procedure_detail, name="procedure-detail"),
    path(
        "thu-tuc/<int:pk>/mau/<int:document_pk>/", views.document_template, name="document-template"
    ),
    path("thu-tuc/<int:pk>/nop-ho-so/", views.submit, name="submit"),
    path("bien-nhan/<str:code>/", views.receipt, name="receipt"),
    path("bien-nhan/<str:code>/pdf/", views.receipt_pdf, name="receipt-pdf"),
    path("tra-cuu/", views.lookup, name="lookup"),
    path("tra-cuu/<str:code>/", views.lookup_dossier, name="lookup-dossier"),
    path("tra-cuu/<str:code>/bo-sung/", views.lookup_supplement, name="lookup-supplement"),
    path("tra-cuu/<str:code>/danh-gia/", views.lookup_rate, name="lookup-rate"),
    path("tra-cuu/<str:code>/dong/", views.lookup_close, name="lookup-close"),
    path(
        "tra-cuu/<str:code>/tai-lieu/<int:document_pk>/",
        views.lookup_document,
        name="lookup-document",
    ),
    path("thong-ke/", views.public_stats, name="public-stats"),
]
