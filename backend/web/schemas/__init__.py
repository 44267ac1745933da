"""Response and request schemas shared by more than one API surface (insured, staff, institutions)."""
