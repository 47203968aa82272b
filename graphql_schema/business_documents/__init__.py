"""Business documents: quotes, orders, invoices and credit notes of a customer."""
