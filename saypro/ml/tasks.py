from celery import shared_task

from .services import text_model_rebuild


@shared_task
def rebuild_text_model(name: str) -> int | None:
    """Retrain a classifier whose active version another scikit-learn version pickled; returns the new version."""
    model = text_model_rebuild(name=name)
    return model.version if model is not None else None
