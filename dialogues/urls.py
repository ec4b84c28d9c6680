from django.urls import path

from dialogues import views

app_name = "dialogues"

urlpatterns = [
    path("", views.session_list, name="session-list"),
    path("ke-hoach/<int:year>/", views.session_plan, name="session-plan"),
    path("<int:pk>/", views.session_detail, name="session-detail"),
    path(
        "<int:pk>/tai-lieu/<int:document_pk>/", views.session_document, name="session-document"
    ),
    path("<int:pk>/dang-ky/", views.registration_create, name="registration-create"),
    path("<int:pk>/dang-ky/da-gui/", views.registration_done, name="registration-done"),
    path(
        "dang-ky/<uuid:public_id>/<str:token>/",
        views.registration_manage,
        name="registration-manage",
    ),
    path(
        "dang-ky/<uuid:public_id>/<str:token>/lich.ics",
        views.registration_ics,
        name="registration-ics",
    ),
    path("tra-loi/", views.answer_list, name="answer-list"),
    path("kien-nghi/", views.recommendation_submit, name="recommendation-submit"),
    path("kien-nghi/da-gui/", views.recommendation_done, name="recommendation-done"),
    path("can-bo/kien-nghi/", views.staff_recommendation_list, name="staff-recommendations"),
    path("can-bo/kien-nghi/giao/", views.staff_bulk_assign, name="staff-bulk-assign"),
    path(
        "can-bo/kien-nghi/<int:pk>/",
        views.staff_recommendation_detail,
        name="staff-recommendation",
    ),
    path(
        "can-bo/kien-nghi/<int:pk>/tep/<int:attachment_pk>/",
        views.staff_attachment,
        name="staff-attachment",
    ),
    path("can-bo/nhap-xlsx/", views.staff_import, name="staff-import"),
    path("can-bo/nhap-xlsx/mau.xlsx", views.staff_import_template, name="staff-import-template"),
    path("can-bo/bao-cao/", views.staff_report, name="staff-report"),
]
