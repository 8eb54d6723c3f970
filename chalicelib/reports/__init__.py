"""Aggregate figures per province, read from every domain."""
