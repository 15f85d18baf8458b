"""Pages anyone may see: home, language, health check, development sign-in."""
