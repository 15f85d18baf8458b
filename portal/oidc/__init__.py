"""OpenID Connect provider: partner services rely on a resident's card login."""
