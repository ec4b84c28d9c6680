from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from procedures.accounts.views import callback as oidc_callback


def favicon(request):
    """Browsers and feed readers ask for /favicon.ico before reading any page."""
    return redirect(static("favicon.ico"), permanent=True)


urlpatterns = [
    path("favicon.ico", favicon),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file: no inline script, so the
    # docs work under the Content-Security-Policy.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include("procedures.api.urls")),
    path("api/v1/dialogues/", include("dialogues.api.urls")),
    # Called by the payment platform too: no language prefix.
    path("payments/", include("procedures.payments.urls")),
    # One fixed address for the identity provider, whatever the page's language.
    path("oidc/callback/", oidc_callback, name="oidc-callback"),
]
urlpatterns += i18n_patterns(
    path("admin/", admin.site.urls),
    path("doi-thoai/", include("dialogues.urls")),
    path("tai-khoan/", include("procedures.accounts.urls")),
    path("", include("procedures.portal.urls")),
    prefix_default_language=False,
)

handler404 = "config.views.page_not_found"
