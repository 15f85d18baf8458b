"""Card bindings: which My Number card authentication certificate belongs to whom."""
