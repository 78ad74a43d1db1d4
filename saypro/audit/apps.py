from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "saypro.audit"
    label = "audit"
    verbose_name = "Audit trail"
