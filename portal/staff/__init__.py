"""Municipal staff accounts, roles and sign-in."""
