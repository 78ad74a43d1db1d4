from django.apps import AppConfig


class FiguresConfig(AppConfig):
    name = "saypro.figures"
    label = "figures"
    verbose_name = "Figures and targets"
    audit_labels = {"target.set": "set the target"}
