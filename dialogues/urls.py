from django.urls import path

from dialogues.views import public, staff

app_name = "dialogues"

urlpatterns = [
    path("", public.session_list, name="session-list"),
    path("ke-hoach/<int:year>/", public.session_plan, name="session-plan"),
    path("<int:pk>/", public.session_detail, name="session-detail"),
    path("<int:pk>/tai-lieu/<int:document_pk>/", public.session_document, name="session-document"),
    path("<int:pk>/dang-ky/", public.registration_create, name="registration-create"),
    path("<int:pk>/dang-ky/da-gui/", public.registration_done, name="registration-done"),
    path(
        "dang-ky/<uuid:public_id>/<str:token>/",
        public.registration_manage,
        name="registration-manage",
    ),
    path(
        "dang-ky/<uuid:public_id>/<str:token>/lich.ics",
        public.registration_ics,
        name="registration-ics",
    ),
    path("tra-loi/", public.answer_list, name="answer-list"),
    path("kien-nghi/", public.recommendation_submit, name="recommendation-submit"),
    path("kien-nghi/da-gui/", public.recommendation_done, name="recommendation-done"),
    path("can-bo/kien-nghi/", staff.staff_recommendation_list, name="staff-recommendations"),
    path("can-bo/kien-nghi/giao/", staff.staff_bulk_assign, name="staff-bulk-assign"),
    path(
        "can-bo/kien-nghi/<int:pk>/",
        staff.staff_recommendation_detail,
        name="staff-recommendation",
    ),
    path(
        "can-bo/kien-nghi/<int:pk>/tep/<int:attachment_pk>/",
        staff.staff_attachment,
        name="staff-attachment",
    ),
    path("can-bo/nhap-xlsx/", staff.staff_import, name="staff-import"),
    path("can-bo/nhap-xlsx/mau.xlsx", staff.staff_import_template, name="staff-import-template"),
    path("can-bo/bao-cao/", staff.staff_report, name="staff-report"),
]
