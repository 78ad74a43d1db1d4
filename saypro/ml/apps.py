from django.apps import AppConfig


class MlConfig(AppConfig):
    name = "saypro.ml"
    label = "ml"
    verbose_name = "Text classifiers"
