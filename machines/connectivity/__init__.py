"""Machine connectivity: what the machines themselves report (MTConnect agents, edge devices)."""
