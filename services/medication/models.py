"""Tables of the medication service; every table name starts with `medication_`.
Its records come with the service's own issue."""
