"""Organizations: the tenancy boundary, and memberships (owner/member; invitations)."""
