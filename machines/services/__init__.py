"""Every write of the machines app: states (the status log) and setup (fixtures, what is mounted)."""
