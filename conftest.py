"""Fixtures every test of the repository may use: the real PostgreSQL and RabbitMQ."""

pytest_plugins = ["schoolkit.testing"]
