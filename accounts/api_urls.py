from django.urls import path

from . import api

app_name = "accounts-api"
urlpatterns = [
    path("registrations/", api.RegistrationCreateView.as_view(), name="registration-create"),
    path("registrations/starts/", api.SignupStartView.as_view(), name="registration-start"),
    path("registrations/me/", api.OwnRegistrationView.as_view(), name="registration-me"),
    path("registrations/me/submit/", api.SubmitView.as_view(), name="registration-submit"),
    path("registrations/me/resend-email/", api.ResendEmailView.as_view(), name="registration-resend-email"),
    path("registrations/me/phone/send/", api.PhoneSendView.as_view(), name="registration-phone-send"),
    path("registrations/me/phone/confirm/", api.PhoneConfirmView.as_view(), name="registration-phone-confirm"),
    path("registrations/me/info/", api.ProvideInfoView.as_view(), name="registration-provide-info"),
    path("registrations/verify-email/", api.VerifyEmailView.as_view(), name="registration-verify-email"),
    path("staff/registrations/", api.StaffRegistrationList.as_view(), name="staff-registration-list"),
    path("staff/registrations/<int:pk>/", api.StaffRegistrationDetail.as_view(), name="staff-registration-detail"),
    path("staff/registrations/<int:pk>/approve/", api.ApproveView.as_view(), name="staff-registration-approve"),
    path("staff/registrations/<int:pk>/reject/", api.RejectView.as_view(), name="staff-registration-reject"),
    path("auth/token/", api.TokenSignInView.as_view(), name="auth-token"),
    path("auth/sign-out/", api.TokenSignOutView.as_view(), name="auth-sign-out"),
    path("auth/password-reset/", api.PasswordResetView.as_view(), name="auth-password-reset"),
    path("auth/password-reset/confirm/", api.PasswordResetConfirmView.as_view(), name="auth-password-reset-confirm"),
    path("account/", api.AccountView.as_view(), name="account"),
    path("account/password/", api.PasswordChangeView.as_view(), name="account-password"),
    path("account/email/", api.EmailChangeView.as_view(), name="account-email"),
    path("account/email/confirm/", api.EmailChangeConfirmView.as_view(), name="account-email-confirm"),
    path("account/preferences/", api.PreferencesView.as_view(), name="account-preferences"),
    path("account/export/", api.DataExportView.as_view(), name="account-export"),
    path("account/deletion/", api.DeletionRequestView.as_view(), name="account-deletion"),
    path("account/deactivate/", api.DeactivateView.as_view(), name="account-deactivate"),
    path("account/feedback/", api.FeedbackView.as_view(), name="account-feedback"),
    path("account/two-factor/", api.TwoFactorView.as_view(), name="account-two-factor"),
    path("staff/users/<int:pk>/timeline/", api.StaffTimelineView.as_view(), name="staff-user-timeline"),
    path("staff/users/<int:pk>/suspend/", api.StaffSuspendView.as_view(), name="staff-user-suspend"),
    path("staff/users/<int:pk>/ban/", api.StaffBanView.as_view(), name="staff-user-ban"),
    path("staff/users/<int:pk>/reinstate/", api.StaffReinstateView.as_view(), name="staff-user-reinstate"),
    path("staff/users/<int:pk>/unlock/", api.StaffUnlockView.as_view(), name="staff-user-unlock"),
]
