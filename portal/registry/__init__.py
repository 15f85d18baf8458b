"""Resident registry: the part of 住民基本台帳 the services need."""
