from django.urls import path

from . import api

app_name = "accounts-api"
urlpatterns = [
    path("registrations/", api.RegistrationCreateView.as_view(), name="registration-create"),
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
]
