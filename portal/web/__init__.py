"""Web base: language, security headers, error pages."""
