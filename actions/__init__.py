"""Actions: the only code that writes rows and publishes events.

Each action checks the actor's right to act, validates its input, writes every row of the
change (and its Event) in one transaction, and publishes only after that commit.
"""
