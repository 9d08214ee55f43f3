"""Institutions publish their own services: drafts, review, revisions, bulk import."""
