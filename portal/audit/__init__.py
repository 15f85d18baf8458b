"""Access log (アクセス記録): who read or changed which resident's records, and why."""
