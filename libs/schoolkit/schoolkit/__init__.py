"""The shared kit of every school service.

Written once, used by all six services: event contracts, the transactional outbox and
its relay, the consumer with its inbox, retries and parking, tombstones, entity
ordering, token verification, Flask wiring and Prometheus metrics.
"""
