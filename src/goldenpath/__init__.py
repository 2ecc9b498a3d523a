"""Golden Path: a self-hosted Internal Developer Platform that ends TicketOps."""

__version__ = "0.1.0"
