from django.db import models
from django.db.models import Q


class TextModel(models.Model):
    """One trained version of a named text classifier (support triage, message categories, spam).

    The fitted scikit-learn pipeline is stored with its evaluation, so every prediction can name the version
    that made it and every version can show how well it did.
    """

    name = models.CharField(max_length=50)
    version = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    trained_on = models.PositiveIntegerField(help_text="Labelled examples used for training.")
    labels = models.JSONField(default=list)
    metrics = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=300, blank=True, help_text="Where the training data came from.")
    blob = models.BinaryField()
    is_active = models.BooleanField(default=False)

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="textmodel_version_once"),
            models.UniqueConstraint(fields=["name"], condition=Q(is_active=True), name="textmodel_one_active"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"
