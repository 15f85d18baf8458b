"""Usage metering for the joint cloud: counts per city × service × metric, no persons."""
