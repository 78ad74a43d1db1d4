from celery import shared_task

from saypro.mail import mail_retry

from .followups import followups_reconcile
from .services import outbox_drain


@shared_task(name="saypro.outbox.tasks.drain")
def drain() -> int:
    return outbox_drain()


@shared_task(name="saypro.outbox.tasks.reconcile")
def reconcile() -> dict[str, int]:
    """The reconciliation sweep: work whose task was lost is found from the database and handed out again."""
    return followups_reconcile()


@shared_task(name="saypro.outbox.tasks.mail_retry")
def retry_mail() -> int:
    return mail_retry()
