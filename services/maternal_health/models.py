"""Tables of the maternal_health service; every table name starts with `maternal_health_`.
Its records come with the service's own issue."""
