"""Admin: dossiers."""
