"""お薬手帳 (Medication history) service for Madoguchi."""
