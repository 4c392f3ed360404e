"""Celery tasks of the registry app: invitation e-mails (safe to run twice: only people who
have not set a password yet get one)."""

from celery import shared_task

from institutions.people import INVITATIONS_TASK, invitations_send


@shared_task(name=INVITATIONS_TASK, acks_late=True)
def send_invitations(user_ids: list[int], base_url: str) -> int:
    return invitations_send(user_ids=user_ids, base_url=base_url)
