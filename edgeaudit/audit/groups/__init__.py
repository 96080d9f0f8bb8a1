"""One plugin per probe group (``edgeaudit.audit.plugin.ClaimPlugin``), registered in ``edgeaudit.claim_kinds``."""
