"""Outbound webhooks: a server-side outbox, signed deliveries, retries, a dead-letter list.

* :mod:`server.hooks.outbox`: the tables (endpoints, deliveries), the event kinds, and
  :func:`~server.hooks.outbox.enqueue`, which the push calls inside the transaction that
  stores the events, so a delivery exists exactly when its event does;
* :mod:`server.hooks.signing`: the Standard Webhooks signature (``webhook-id``,
  ``webhook-timestamp``, ``webhook-signature: v1,<base64 HMAC-SHA256>``);
* :mod:`server.hooks.delivery`: the loop that claims due deliveries (a lease column, and
  ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), sends them and records the outcome, with
  exponential backoff and full jitter, then the dead-letter list;
* :mod:`server.hooks.admin`: what ``rma server webhooks …`` does.

This package is imported by :mod:`server.db` (the outbox only), so nothing here imports
:mod:`server.db` at module level except :mod:`~server.hooks.delivery` and
:mod:`~server.hooks.admin`, which the push never loads.
"""
