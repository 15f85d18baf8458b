"""Municipalities (tenants) of the joint cloud."""
