from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularSwaggerSplitView

from accounts.landing import home
from accounts.security_views import admin_login, admin_password_change
from accounts.urls import auth_urlpatterns
from saypro.api_schema import SchemaView

urlpatterns = [
    path("", home, name="home"),
    # Before the admin: its sign-in is the one sign-in page (lockout, account events, two-factor).
    path("admin/login/", admin_login),
    # Before the admin too: a password change ends the other sessions and revokes the API tokens.
    path("admin/password_change/", admin_password_change),
    path("admin/", admin.site.urls),
    path("accounts/", include(auth_urlpatterns)),
    path("", include("saypro.favicon")),
    path("", include("saypro.health")),
    path("dashboard/messages/", include("messaging.urls")),
    path("messages/", include("messaging.user_urls")),
    path("dashboard/support/", include("support.urls")),
    path("", include("support.public_urls")),
    path("dashboard/marketplace/", include("marketplace.urls")),
    path("dashboard/moderation/", include("moderation.urls")),
    path("dashboard/", include("reports.urls")),
    path("api/v1/", include("accounts.api_urls")),
    path("api/v1/", include("messaging.api_urls")),
    path("api/v1/", include("support.api_urls")),
    path("api/v1/", include("marketplace.api_urls")),
    path("api/v1/", include("moderation.api_urls")),
    path("api/v1/", include("reports.api_urls")),
    path("api/schema/", SchemaView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script from a URL of its own: no inline script, so the CSP holds.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("accounts.urls")),
]

# No URL serves MEDIA_ROOT, not even with DEBUG on: every upload there (ID documents, attachments, report files) is
# private, and reaches its reader only through a view that checks who asks.

handler400 = "saypro.error_pages.bad_request"
handler403 = "saypro.error_pages.permission_denied"
handler404 = "saypro.error_pages.page_not_found"
handler500 = "saypro.error_pages.server_error"
