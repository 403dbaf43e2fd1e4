"""Notify: e-mail and SMS to guardians and staff, from the events they should hear about."""
