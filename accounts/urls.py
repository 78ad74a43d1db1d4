from django.contrib.auth.views import LogoutView
from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("dashboard/registrations/", views.queue, name="queue"),
    path("dashboard/registrations/bulk/", views.queue_bulk, name="queue-bulk"),
    path("dashboard/registrations/<int:pk>/", views.registration_detail, name="registration"),
    path("dashboard/registrations/<int:pk>/approve/", views.registration_approve, name="registration-approve"),
    path("dashboard/registrations/<int:pk>/reject/", views.registration_reject, name="registration-reject"),
    path(
        "dashboard/registrations/<int:pk>/request-info/",
        views.registration_request_info,
        name="registration-request-info",
    ),
    path("dashboard/registrations/<int:pk>/claim/", views.registration_claim, name="registration-claim"),
    path("dashboard/registrations/<int:pk>/id-document/", views.registration_id_document, name="registration-document"),
    path("dashboard/block-rules/", views.block_rules, name="block-rules"),
    path("dashboard/block-rules/<int:pk>/", views.block_rule, name="block-rule"),
    path("register/", views.register, name="register"),
    path("register/status/", views.register_status, name="register-status"),
    path("register/status/resend-email/", views.register_resend_email, name="register-resend-email"),
    path("register/status/phone/send/", views.register_phone_send, name="register-phone-send"),
    path("register/status/phone/confirm/", views.register_phone_confirm, name="register-phone-confirm"),
    path("register/status/answer/", views.register_provide_info, name="register-provide-info"),
    path("register/verify-email/<str:token>/", views.register_verify_email, name="register-verify-email"),
]

# Sign-in and sign-out keep Django's un-namespaced names ("login", "logout"), which LOGIN_URL and
# LOGOUT_REDIRECT_URL refer to; saypro/urls.py includes them at /accounts/.
auth_urlpatterns = [
    path("login/", views.StaffLoginView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
]
