"""runlab's built-in plugins; each needs an optional extra and stays inactive without it."""
