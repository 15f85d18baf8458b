"""Server-side sign-in sessions: a new id at every sign-in, idle and absolute timeouts,
logout, and "end all my sessions"."""
