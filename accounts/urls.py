from django.urls import path

from . import security_views, views

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
    path("dashboard/registrations/<int:pk>/undo/", views.registration_undo, name="registration-undo"),
    path("dashboard/registrations/<int:pk>/escalate/", views.registration_escalate, name="registration-escalate"),
    path("dashboard/registrations/guidelines/", views.guidelines, name="guidelines"),
    path("dashboard/registrations/<int:pk>/claim/", views.registration_claim, name="registration-claim"),
    path("dashboard/registrations/<int:pk>/id-document/", views.registration_id_document, name="registration-document"),
    path("dashboard/registrations/<int:pk>/verify-id/", views.registration_verify_id, name="registration-verify-id"),
    path("dashboard/block-rules/", views.block_rules, name="block-rules"),
    path("dashboard/block-rules/<int:pk>/", views.block_rule, name="block-rule"),
    path("register/", views.register, name="register"),
    path("privacy/", views.privacy_notice, name="privacy"),
    path("terms/", views.terms_of_use, name="terms"),
    path("register/start/", views.register_start, name="register-start"),
    path("register/sent/", views.register_sent, name="register-sent"),
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
    path("login/", security_views.SignInView.as_view(), name="login"),
    path("login/verify/", security_views.sign_in_verify, name="login-verify"),
    path("logout/", security_views.SignOutView.as_view(), name="logout"),
    path("two-factor/", security_views.two_factor, name="two-factor"),
    path("two-factor/verify/", security_views.sign_in_verify, name="two-factor-verify"),
    path("password-reset/", security_views.password_reset, name="password-reset"),
    path(
        "password-reset/<str:uidb64>/<str:token>/",
        security_views.password_reset_confirm,
        name="password-reset-confirm",
    ),
    path("email-change/<str:token>/", security_views.email_change_confirm, name="email-change-confirm"),
]
