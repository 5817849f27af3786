"""What several channels share: numbered choices for networks without real buttons."""
