"""Celery tasks: they take ids, check the database first, and are safe to re-run."""
import logging

__all__ = ["deliver"]

from celery import shared_task

from procedures.services.delivery import delivery_send

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, ignore_result=True)
def deliver(delivery_id: int) -> None:
    delivery_send(delivery_id=delivery_id)
