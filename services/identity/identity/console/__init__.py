"""The identity console at /console (issue 3 §6, R-IDN-7): server-rendered pages for
school administrators and class teachers, Russian by default, over the same domain
functions as the API, so the rules, events and audit are the ones the API has."""

from identity.console.views import blueprint, configure

__all__ = ["blueprint", "configure"]
