from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "saypro.sla"
    label = "sla"
    verbose_name = "SLA clocks"
