"""コンビニ交付 (Convenience-store certificate issuance) service for Madoguchi."""
