"""母子健康手帳 (Maternal and child health handbook) service for Madoguchi."""
