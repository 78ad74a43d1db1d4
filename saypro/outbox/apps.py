from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "saypro.outbox"
    label = "outbox"
    verbose_name = "Task outbox"
