"""Who is asking, and what they may do: users, teams, roles, tokens, and the permission check."""
