"""The rules: accounts, tokens, bookings, mail. Each function is one unit of work."""
