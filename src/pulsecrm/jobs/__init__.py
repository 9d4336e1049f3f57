"""Background jobs: Dramatiq actors over the capability services (a thin adapter).

``broker.py`` picks the broker from ``PULSECRM_QUEUE_URL`` (Redis, RabbitMQ,
or the in-process stub); ``actors.py`` declares the actors on it;
``worker.py`` runs worker processes. Jobs never decrypt and never touch a
capability's tables: they call ``marketing.sending``.
"""
