"""Insights: the TicketOps bill.

Ticket history is imported from the team's tracker (`formats`), each ticket is matched to the
golden path that replaces it or grouped into a candidate type (`classification`), and the
ticket baseline is set against the platform's own requests (`statistics`) to show the time and
money saved (`bill`) and what to build next (`ranking`, `draft`), as tables and charts.
"""
