from django.urls import path

from dialogues.api import views

app_name = "dialogues-api"

urlpatterns = [
    path("sessions/", views.SessionListView.as_view(), name="session-list"),
    path("sessions/<int:pk>/", views.SessionDetailView.as_view(), name="session-detail"),
    path(
        "sessions/<int:pk>/registrations/",
        views.SessionRegistrationListView.as_view(),
        name="session-registrations",
    ),
    path("answers/", views.PublishedAnswerListView.as_view(), name="answer-list"),
    path("answers/<int:pk>/", views.PublishedAnswerDetailView.as_view(), name="answer-detail"),
]
