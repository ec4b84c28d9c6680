"""How the app names a staff member: Vietnamese order (family name first), else the login."""


def staff_display_name(user) -> str:
    if user is None:
        return ""
    return " ".join(p for p in (user.last_name, user.first_name) if p) or user.get_username()
