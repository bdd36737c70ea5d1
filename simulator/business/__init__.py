"""From covered to connected, and what it costs: adoption, backhaul, power and economics,
joined per site by :func:`simulator.business.assessment.assess`."""
