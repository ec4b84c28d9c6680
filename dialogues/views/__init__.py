"""Dialogue pages: `public` (sessions, registration, recommendations, answers) and
`staff` (the workspace inside the admin layout); `common` holds what both use."""
