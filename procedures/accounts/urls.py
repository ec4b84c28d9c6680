"""Applicant account pages (under the language prefix; the OIDC callback is not, see
config/urls.py, because the provider must be given one fixed redirect URI)."""

from django.urls import path

from procedures.accounts import views

app_name = "accounts"

urlpatterns = [
    path("dang-nhap/", views.sign_in, name="sign-in"),
    path("dang-xuat/", views.sign_out, name="sign-out"),
    path("ho-so-cua-toi/", views.my_dossiers, name="my-dossiers"),
    path("ho-so-cua-toi/<str:code>/", views.open_dossier, name="open-dossier"),
]
