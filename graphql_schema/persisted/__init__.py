"""Registered documents for servers that run only registered operations."""
