"""Who may see and do what: roles and their capabilities, masking, passwords. No Dash here."""
