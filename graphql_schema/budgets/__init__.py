"""Budgets: spent, committed, remaining, burn and projection of projects and customers, and
reviews of past years."""
