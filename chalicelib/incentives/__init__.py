"""Incentive schedules, disbursement through payment partners, reconciliation."""
