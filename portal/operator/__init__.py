"""The joint-cloud operator's console: member cities, their settings and usage; never
a resident's record."""
