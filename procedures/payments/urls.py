"""Payment addresses: outside the language prefixes, since the platform calls them."""

from django.urls import path

from procedures.payments import views

app_name = "payments"

urlpatterns = [
    path("start/<str:code>/", views.start, name="start"),
    path("return/", views.payment_returned, name="return"),
    path("ipn/", views.ipn, name="ipn"),
    path("stand-in/", views.standin, name="standin"),
]
