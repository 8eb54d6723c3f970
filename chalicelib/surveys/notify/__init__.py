"""Telling people what the programme decided: the outbox's notifications sent by e-mail and SMS,
and the reminders to use the training balance (docs/NOTIFICATIONS.md)."""
