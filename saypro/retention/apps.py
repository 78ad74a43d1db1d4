from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "saypro.retention"
    label = "retention"
    verbose_name = "Data retention"
    audit_labels = {
        "retention.purge": "purged expired personal data",
        "retention.change": "changed a retention period",
    }
