"""Tables of the convenience_issuance service; every table name starts with `convenience_issuance_`.
Its records come with the service's own issue."""
