"""Pages that belong to no domain: home, help, accessibility statement, privacy, health."""
