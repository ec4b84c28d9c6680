from django.conf import settings


def department(request):
    """Department facts shown on every public page (all are settings)."""
    return {
        "department_name": settings.DEPARTMENT_NAME,
        "department_hotline": settings.DEPARTMENT_HOTLINE,
        "department_address": settings.DEPARTMENT_ADDRESS,
        "department_hours": settings.DEPARTMENT_HOURS,
    }
