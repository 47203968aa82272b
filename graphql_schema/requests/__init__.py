"""Requests in the API: types, queries, mutations and the ``requestEvents`` subscription."""
