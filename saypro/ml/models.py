from django.db import models
from django.db.models import Q


class TextModel(models.Model):
    """One trained version of a named text classifier (support triage, message categories, spam).

    The fitted, calibrated scikit-learn pipeline is stored with its evaluation, the decision thresholds chosen on
    the task's validation set and the scikit-learn version that pickled it, so every prediction can name the
    version that made it and every version can show how well it did and why it is (or is not) the active one.
    """

    name = models.CharField(max_length=50)
    version = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    trained_on = models.PositiveIntegerField(help_text="Labelled examples used for training.")
    labels = models.JSONField(default=list)
    metrics = models.JSONField(default=dict, blank=True, help_text="Cross-validated on the training examples.")
    validation = models.JSONField(
        default=dict, blank=True, help_text="Measured on the task's validation set, which no version trains on."
    )
    thresholds = models.JSONField(
        default=dict, blank=True, help_text="Calibrated-probability thresholds chosen on the validation set."
    )
    source = models.CharField(max_length=300, blank=True, help_text="Where the training data came from.")
    sklearn_version = models.CharField(
        max_length=20, blank=True, help_text="A version pickled by another scikit-learn is retrained, not loaded."
    )
    encoder = models.CharField(
        max_length=80,
        blank=True,
        help_text="The sentence encoder its features need (none when empty); without it here it is retrained.",
    )
    note = models.CharField(max_length=300, blank=True, help_text="Why this version was or was not activated.")
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


class ValidationSet(models.Model):
    """The fixed held-out examples of one classifier: split off once, never trained on, and the yardstick every
    later version of that classifier is measured (and chosen for activation) on."""

    name = models.CharField(max_length=50, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    texts = models.JSONField(default=list)
    labels = models.JSONField(default=list)
    source = models.CharField(max_length=300, blank=True)
    digest = models.CharField(max_length=64, help_text="Identifies the exact examples, so figures stay comparable.")

    def __str__(self) -> str:
        return f"{self.name}: {len(self.labels)} held-out examples"
