"""KPIs: figures both sides trust, each with its definition, series and records."""
